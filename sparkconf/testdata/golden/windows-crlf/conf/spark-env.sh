# Saved on Windows

export SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=FILESYSTEM \
-Dspark.deploy.recoveryDirectory=/data/recovery"
SPARK_MASTER_OPTS=-Dspark.deploy.recoveryCompressionCodec=zstd
