// Package sparkconf works out where a Spark standalone Master keeps its
// recovery state, by reading the Master's configuration the way Spark's
// launch scripts, launcher and SparkConf combine it: -D options from
// conf/java-opts, SPARK_DAEMON_JAVA_OPTS and SPARK_MASTER_OPTS (later ones win
// on the java command line), then spark-defaults.conf, which only fills in
// spark.* keys that no -D option set.
//
// It never executes spark-env.sh. The script is parsed: assignments,
// export, quoting, $VAR and ${VAR} expansion, ${VAR:-default} and friends,
// and backslash continuations are understood; anything else (command
// substitution, conditionals, loops, sourcing other files) is reported as a
// Warning and not applied, because running an operator's shell script from a
// recovery tool would be both unsafe and unrepeatable. A Conf is therefore
// "what the files say", not proof of what a running Master uses; comparing
// with the Master's /json endpoint is the way to be sure.
//
// The package reads files only; it does not talk to ZooKeeper, open a
// recovery directory, print, or decide what to do with what it finds.
package sparkconf
