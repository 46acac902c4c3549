# Single-node recovery with the local file system, as in docs/spark-standalone.md.
export SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=/var/lib/spark/recovery"
