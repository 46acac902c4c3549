SPARK_MASTER_HOST=$(hostname -f)
if [ -d /mnt/nfs/spark ]; then
  SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryDirectory=/mnt/nfs/spark"
fi
for f in /etc/spark/env.d/*.sh; do . "$f"; done
source /etc/spark/site-env.sh
ulimit -n 65536
SPARK_DAEMON_JAVA_OPTS="$SPARK_DAEMON_JAVA_OPTS -Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=/srv/spark-recovery"
SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=`cat /etc/spark/rest`"
java_helper() {
  SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=NONE"
}
