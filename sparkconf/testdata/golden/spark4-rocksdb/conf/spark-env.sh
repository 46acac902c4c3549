export SPARK_MASTER_OPTS="-Dspark.deploy.recoveryMode=ROCKSDB -Dspark.deploy.recoveryDirectory=${RECOVERY_BASE:-/data}/rocks"
