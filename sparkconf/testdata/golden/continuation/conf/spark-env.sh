ZK_HOSTS=zk1.example.com:2181,zk2.example.com:2181
SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=ZOOKEEPER \
  -Dspark.deploy.zookeeper.url=${ZK_HOSTS}"
export SPARK_DAEMON_JAVA_OPTS="$SPARK_DAEMON_JAVA_OPTS" \
  SPARK_MASTER_OPTS=-Dspark.deploy.zookeeper.dir=/spark-\
prod
