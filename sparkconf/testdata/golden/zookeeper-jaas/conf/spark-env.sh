SPARK_DAEMON_JAVA_OPTS='-Dspark.deploy.recoveryMode=ZOOKEEPER -Djava.security.auth.login.config=/etc/spark/jaas.conf -Dzookeeper.sasl.client=true'
