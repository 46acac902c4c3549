import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * Dumps the Spark ZooKeeper dir (its parents, itself and every descendant) as znodes.json, in the
 * layout the Go store tests load back into a real ZooKeeper. Parents come before children so the
 * list can be replayed in order. Optionally writes each master_status child's raw data to a file.
 *
 * Usage: ZkDump host:port /spark/dir out.json [recordsDir]
 */
public class ZkDump {
  public static void main(String[] args) throws Exception {
    String connect = args[0];
    String sparkDir = args[1];
    Path out = Paths.get(args[2]);
    Path recordsDir = args.length > 3 ? Paths.get(args[3]) : null;

    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(connect, 30000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
    });
    if (!connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("cannot connect to " + connect);

    List<String> paths = new ArrayList<>();
    String[] parts = sparkDir.substring(1).split("/");
    StringBuilder p = new StringBuilder();
    for (int i = 0; i < parts.length - 1; i++) {
      p.append('/').append(parts[i]);
      paths.add(p.toString());
    }
    walk(zk, sparkDir, paths);

    StringBuilder sb = new StringBuilder();
    sb.append("{\"sparkDir\": ").append(q(sparkDir)).append(", \"znodes\": [");
    String records = sparkDir + "/master_status/";
    for (int i = 0; i < paths.size(); i++) {
      String path = paths.get(i);
      Stat st = new Stat();
      byte[] data = zk.getData(path, false, st);
      List<ACL> acl = zk.getACL(path, new Stat());
      sb.append(i == 0 ? "\n  " : ",\n  ");
      sb.append("{\"path\": ").append(q(path)).append(", \"data\": ");
      sb.append(data == null ? "null" : q(Base64.getEncoder().encodeToString(data)));
      sb.append(", \"acl\": [");
      for (int j = 0; j < acl.size(); j++) {
        ACL a = acl.get(j);
        if (j > 0) sb.append(", ");
        sb.append("{\"perms\": ").append(a.getPerms()).append(", \"scheme\": ").append(q(a.getId().getScheme()))
            .append(", \"id\": ").append(q(a.getId().getId())).append('}');
      }
      sb.append("], \"stat\": {\"czxid\": ").append(st.getCzxid()).append(", \"mzxid\": ").append(st.getMzxid())
          .append(", \"ctime\": ").append(st.getCtime()).append(", \"mtime\": ").append(st.getMtime())
          .append(", \"version\": ").append(st.getVersion()).append(", \"cversion\": ").append(st.getCversion())
          .append(", \"aversion\": ").append(st.getAversion()).append(", \"ephemeralOwner\": ").append(st.getEphemeralOwner())
          .append(", \"dataLength\": ").append(st.getDataLength()).append(", \"numChildren\": ").append(st.getNumChildren())
          .append(", \"pzxid\": ").append(st.getPzxid()).append("}}");
      if (recordsDir != null && path.startsWith(records) && data != null) {
        Files.createDirectories(recordsDir);
        Files.write(recordsDir.resolve(path.substring(records.length())), data);
      }
    }
    sb.append("\n]}\n");
    Files.write(out, sb.toString().getBytes(StandardCharsets.UTF_8));
    zk.close();
  }

  private static void walk(ZooKeeper zk, String path, List<String> acc) throws Exception {
    acc.add(path);
    List<String> children = new ArrayList<>(zk.getChildren(path, false));
    Collections.sort(children);
    for (String c : children) walk(zk, path + "/" + c, acc);
  }

  private static String q(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
