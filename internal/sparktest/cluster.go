package sparktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MasterOptions configure a Master's recovery. Zero values leave Spark's
// defaults.
type MasterOptions struct {
	Mode  string // spark.deploy.recoveryMode: FILESYSTEM, ROCKSDB (Spark 4) or ZOOKEEPER ("" = NONE)
	Dir   string // spark.deploy.recoveryDirectory (FILESYSTEM, ROCKSDB)
	ZKURL string // spark.deploy.zookeeper.url (ZOOKEEPER)
	ZKDir string // spark.deploy.zookeeper.dir (ZOOKEEPER; Spark's default /spark)
	// WorkerTimeout is spark.worker.timeout: how long a recovering Master
	// waits for Workers and apps before removing those that did not answer.
	WorkerTimeout time.Duration
	Conf          map[string]string // any other spark.* setting
	// ViaDefaults writes every setting into the Master's
	// $SPARK_CONF_DIR/spark-defaults.conf instead of -D options on its
	// command line. Dir may then be relative: the Master resolves it
	// against its working directory, which is WorkDir.
	ViaDefaults bool
}

// Master is a running standalone Master on loopback.
type Master struct {
	*Proc
	url, web string
}

var (
	reMasterURL = regexp.MustCompile(`Starting Spark master at (spark://\S+)`)
	reMasterWeb = regexp.MustCompile(`Bound MasterWebUI to \S+, and started at (http://\S+)`)
	reWorkerWeb = regexp.MustCompile(`Bound WorkerWebUI to \S+, and started at (http://\S+)`)
	reWorkerReg = regexp.MustCompile(`Successfully registered with master (spark://\S+)`)
	reAppID     = regexp.MustCompile(`Connected to Spark cluster with app ID (\S+)`)
	reDriverID  = regexp.MustCompile(`Driver successfully submitted as (driver-\S+)`)
	// ReDeleted matches the ZooKeeper engine's log line for a record it could
	// not read and deleted; the record name is the submatch.
	ReDeleted = regexp.MustCompile(`Exception while reading persisted file, deleting`)
)

// StartMaster starts a Master on free loopback ports (both 0, so that no
// port picked free can be taken by another process before Spark binds it)
// and waits until its web UI answers /json. The Master may still be
// STANDBY or RECOVERING: see WaitStatus.
func StartMaster(t testing.TB, home string, o MasterOptions) *Master {
	t.Helper()
	conf := map[string]string{"spark.master.rest.enabled": "false"}
	switch o.Mode {
	case "":
	case "FILESYSTEM", "ROCKSDB":
		conf["spark.deploy.recoveryDirectory"] = o.Dir
	case "ZOOKEEPER":
		conf["spark.deploy.zookeeper.url"] = o.ZKURL
		if o.ZKDir != "" {
			conf["spark.deploy.zookeeper.dir"] = o.ZKDir
		}
	default:
		t.Fatalf("sparktest: recovery mode %q: want FILESYSTEM, ROCKSDB or ZOOKEEPER", o.Mode)
	}
	if o.Mode != "" {
		conf["spark.deploy.recoveryMode"] = o.Mode
	}
	if o.WorkerTimeout > 0 {
		conf["spark.worker.timeout"] = strconv.Itoa(int(o.WorkerTimeout / time.Second))
	}
	for k, v := range o.Conf {
		conf[k] = v
	}
	args := []string{"org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "0", "--webui-port", "0"}
	var defaults map[string]string
	if o.ViaDefaults {
		defaults = conf
	} else {
		args = append(sysProps(conf), args...)
	}
	m := &Master{Proc: startWithDefaults(t, home, "master", defaults, args...)}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	var err error
	if m.url, err = m.WaitLog(ctx, reMasterURL); err != nil {
		t.Fatal(err)
	}
	if m.web, err = m.WaitLog(ctx, reMasterWeb); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = m.JSON(ctx); err == nil {
			break
		}
		if ctx.Err() != nil || m.Exited() {
			t.Fatalf("sparktest: master web UI %s: %v\n%s", m.web, err, m.Tail(25))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("sparktest: real Spark Master %s (%s) serving at %s, web UI %s", filepath.Base(home), o.Mode, m.URL(), m.web)
	return m
}

// URL is the Master's spark://host:port.
func (m *Master) URL() string { return m.url }

// WebURL is the Master's web UI, http://host:port.
func (m *Master) WebURL() string { return m.web }

// JSON is the Master's /json/ view (the field names of Spark's JsonProtocol).
func (m *Master) JSON(ctx context.Context) (map[string]any, error) {
	var v map[string]any
	err := getJSON(ctx, m.web+"/json/", &v)
	return v, err
}

// Status is the "status" field of /json: STANDBY, RECOVERING,
// COMPLETING_RECOVERY or ALIVE.
func (m *Master) Status(ctx context.Context) (string, error) {
	v, err := m.JSON(ctx)
	if err != nil {
		return "", err
	}
	s, _ := v["status"].(string)
	return s, nil
}

// WaitStatus polls /json until the Master reports status, the Master
// exits, or ctx ends (StartTimeout when ctx has no deadline).
func (m *Master) WaitStatus(ctx context.Context, status string) error {
	return m.WaitJSON(ctx, "status "+status, func(v map[string]any) bool { return v["status"] == status })
}

// WaitJSON polls /json until ok holds; what names the condition in errors.
func (m *Master) WaitJSON(ctx context.Context, what string, ok func(map[string]any) bool) error {
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, StartTimeout)
		defer cancel()
	}
	var last map[string]any
	for {
		v, err := m.JSON(ctx)
		if err == nil {
			last = v
			if ok(v) {
				return nil
			}
		}
		if m.Exited() {
			return fmt.Errorf("sparktest: master exited while waiting for %s:\n%s", what, m.Tail(25))
		}
		select {
		case <-ctx.Done():
			b, _ := json.Marshal(last)
			return fmt.Errorf("sparktest: master %s: waiting for %s: %w; last /json: %s", m.url, what, ctx.Err(), b)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Stop asks the Master to end (SIGTERM) and kills its group after 10 s.
func (m *Master) Stop() {
	if m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(10 * time.Second):
		}
	}
	m.Kill()
}

// WorkerOptions size a Worker.
type WorkerOptions struct {
	Cores    int  // default 2
	MemoryMB int  // default 2048 (what it offers executors, not its heap)
	GPU      bool // a custom "gpu" resource of 2 addresses, as the captures have
	Conf     map[string]string
}

// Worker is a running standalone Worker registered with a Master.
type Worker struct {
	*Proc
	web string
	id  string
}

// StartWorker starts a Worker on free loopback ports and waits until it
// has registered with masterURL and its web UI gives its id.
func StartWorker(t testing.TB, home, masterURL string, o WorkerOptions) *Worker {
	t.Helper()
	if o.Cores == 0 {
		o.Cores = 2
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = 2048
	}
	conf := map[string]string{}
	if o.GPU {
		conf["spark.worker.resource.gpu.amount"] = "2"
		conf["spark.worker.resource.gpu.discoveryScript"] = GPUDiscoveryScript(t)
	}
	for k, v := range o.Conf {
		conf[k] = v
	}
	work := t.TempDir()
	args := append(sysProps(conf), "org.apache.spark.deploy.worker.Worker",
		"--host", "127.0.0.1", "--port", "0", "--webui-port", "0",
		"--cores", strconv.Itoa(o.Cores), "--memory", strconv.Itoa(o.MemoryMB)+"m",
		"--work-dir", work, masterURL)
	w := &Worker{Proc: start(t, home, "worker", args...)}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	var err error
	if w.web, err = w.WaitLog(ctx, reWorkerWeb); err != nil {
		t.Fatal(err)
	}
	if _, err = w.WaitLog(ctx, reWorkerReg); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := getJSON(ctx, w.web+"/json/", &v); err != nil {
		t.Fatalf("sparktest: worker web UI: %v", err)
	}
	w.id, _ = v["id"].(string)
	if w.id == "" {
		t.Fatalf("sparktest: worker /json has no id: %v", v)
	}
	t.Logf("sparktest: real Spark Worker %s registered with %s", w.id, masterURL)
	return w
}

// ID is the Worker's id (worker-yyyyMMddHHmmss-host-port).
func (w *Worker) ID() string { return w.id }

// WebURL is the Worker's web UI.
func (w *Worker) WebURL() string { return w.web }

// App is a client-mode application (the SleepApp): its driver runs in the
// SparkSubmit JVM we started, and keeps running until killed.
type App struct {
	*Proc
}

// SubmitApp starts the SleepApp in client mode against masterURL with one
// 1-core executor and returns at once; WaitID waits for its registration.
// conf adds or overrides spark.* settings.
func SubmitApp(t testing.TB, home, masterURL, name string, conf map[string]string) *App {
	t.Helper()
	c := map[string]string{
		"spark.ui.enabled":      "false",
		"spark.driver.host":     "127.0.0.1",
		"spark.cores.max":       "1",
		"spark.executor.cores":  "1",
		"spark.executor.memory": "384m",
		// Small heaps: without this Spark refuses executors (and drivers)
		// below 450 MiB, 1.5 times the 300 MiB it reserves.
		"spark.testing.reservedMemory": "0",
	}
	for k, v := range conf {
		c[k] = v
	}
	args := append([]string{"org.apache.spark.deploy.SparkSubmit", "--master", masterURL,
		"--deploy-mode", "client", "--name", name, "--class", "SleepApp"}, confArgs(c)...)
	args = append(args, SleepAppJar(t, home))
	return &App{Proc: start(t, home, "app-"+safeName(name), args...)}
}

// WaitID waits until the application has registered with the Master and
// returns its id.
func (a *App) WaitID(ctx context.Context) (string, error) {
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, StartTimeout)
		defer cancel()
	}
	return a.WaitLog(ctx, reAppID)
}

// SubmitDriver submits the SleepApp in cluster mode with --supervise (the
// Master launches it on a Worker and relaunches it if it fails) and returns
// the driver id once the submission client has exited.
func SubmitDriver(t testing.TB, home, masterURL, name string, conf map[string]string) string {
	t.Helper()
	c := map[string]string{"spark.driver.extraJavaOptions": strings.Join(javaOpens, " ")}
	for k, v := range conf {
		c[k] = v
	}
	args := append([]string{"org.apache.spark.deploy.SparkSubmit", "--master", masterURL,
		"--deploy-mode", "cluster", "--supervise", "--driver-cores", "1", "--driver-memory", "384m",
		"--name", name, "--class", "SleepApp"}, confArgs(c)...)
	args = append(args, SleepAppJar(t, home), "--no-context")
	p := start(t, home, "submit-"+safeName(name), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*StartTimeout)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("sparktest: cluster-mode submit of %q: %v\n%s", name, err, p.Tail(30))
	}
	m := reDriverID.FindStringSubmatch(p.Text())
	if m == nil {
		t.Fatalf("sparktest: cluster-mode submit of %q logged no driver id:\n%s", name, p.Tail(30))
	}
	return m[1]
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// DeletedLines are the lines of a Master's log where its ZooKeeper engine
// deleted a record it could not read.
func (m *Master) DeletedLines() []string { return lines(m.Text(), ReDeleted) }
