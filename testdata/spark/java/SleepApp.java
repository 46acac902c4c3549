import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A Spark application that registers with the standalone Master and then idles, so the Master
 * keeps a RUNNING app (and its executors) while the generator captures the recovery state.
 * With --no-context it never talks to the Master: used as the cluster-mode --supervise driver,
 * whose DriverInfo record is what we want, without a third application.
 */
public class SleepApp {
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--no-context")) {
      Thread.sleep(Long.MAX_VALUE);
      return;
    }
    JavaSparkContext sc = new JavaSparkContext(new SparkConf());
    try {
      Thread.sleep(Long.MAX_VALUE);
    } finally {
      sc.stop();
    }
  }
}
