package audit

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/recoverctl/recoverctl/codec/classes"
	at "github.com/recoverctl/recoverctl/internal/streamtest"
	"github.com/recoverctl/recoverctl/internal/zktest"
	"github.com/recoverctl/recoverctl/store"
	"github.com/recoverctl/recoverctl/store/fs"
	"github.com/recoverctl/recoverctl/store/zk"
)

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}

func connect(t *testing.T, addr string) *gozk.Conn {
	t.Helper()
	c, _, err := gozk.Connect([]string{addr}, 10*time.Second, gozk.WithLogger(quietLog{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func create(t *testing.T, c *gozk.Conn, p string, data []byte, acl []gozk.ACL) {
	t.Helper()
	if _, err := c.Create(p, data, 0, acl); err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
}

func has(fs []classes.Finding, check, where string) bool {
	return slices.ContainsFunc(fs, func(f classes.Finding) bool {
		return f.Check == check && (f.Record == where || f.Path == where || strings.Contains(f.Record, where))
	})
}

func gadgetChain(names ...string) []byte {
	var v at.Value = at.Nul()
	for i := len(names) - 1; i >= 0; i-- {
		v = at.Obj(at.Holder(names[i]), v)
	}
	w := at.New()
	v(w)
	return w.Bytes()
}

// Gadget-chain streams planted under master_status with Curator's default
// open ACL are all flagged, record and class named, and so are the open
// ACLs; a tree with digest-only ACLs is not.
func TestZooKeeperGadgetsAndACLs(t *testing.T) {
	srv := zktest.Start(t)
	ctx := context.Background()
	c := connect(t, srv.Addr())
	open := gozk.WorldACL(gozk.PermAll)
	create(t, c, "/spark", nil, open)
	create(t, c, "/spark/master_status", nil, open)
	create(t, c, "/spark/leader_election", nil, open)
	chains := map[string][]string{
		"app_app-cc1":    {"sun.reflect.annotation.AnnotationInvocationHandler", "org.apache.commons.collections.map.LazyMap", "org.apache.commons.collections.functors.InvokerTransformer"},
		"app_app-cc2":    {"java.util.PriorityQueue", "org.apache.commons.collections4.comparators.TransformingComparator"},
		"driver_drv-grv": {"org.codehaus.groovy.runtime.ConvertedClosure", "org.codehaus.groovy.runtime.MethodClosure"},
		"worker_w-jrmp":  {"java.rmi.server.RemoteObjectInvocationHandler", "sun.rmi.server.UnicastRef"},
		"app_app-c3p0":   {"com.mchange.v2.c3p0.PoolBackedDataSource"},
		"app_app-xalan":  {"com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl"},
	}
	for name, chain := range chains {
		create(t, c, "/spark/master_status/"+name, gadgetChain(chain...), open)
	}
	create(t, c, "/spark/master_status/notes.txt", []byte("hello"), open)

	s, err := zk.Open(ctx, zk.Options{Servers: srv.Addr(), SparkDir: "/spark"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acls, err := DialZKACLs(ctx, srv.Addr(), "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer acls.Close()
	tb, _, _ := classes.TableFor("3.5.8")
	rep, err := Run(ctx, s, Options{ZK: acls, SparkDir: "/spark", Record: classes.Options{Target: tb}})
	if err != nil {
		t.Fatal(err)
	}
	for name, chain := range chains {
		last := chain[len(chain)-1]
		if !slices.ContainsFunc(rep.Findings, func(f classes.Finding) bool {
			return f.Record == name && f.Check == classes.CheckGadget && (slices.Contains(chain, f.Class))
		}) {
			t.Errorf("%s (%s): no gadget finding", name, last)
		}
		if !has(rep.Findings, CheckOpenACL, name) {
			t.Errorf("%s: open ACL not reported", name)
		}
	}
	for _, p := range []string{"/spark", "/spark/master_status", "/spark/leader_election"} {
		if !has(rep.Findings, CheckOpenACL, p) {
			t.Errorf("%s: open ACL not reported", p)
		}
	}
	if !has(rep.Findings, CheckForeignEntry, "notes.txt") {
		t.Error("foreign entry not reported")
	}
	// commons-collections 3.2.2 is on 3.5.8's class path: the finding says so.
	if !slices.ContainsFunc(rep.Findings, func(f classes.Finding) bool {
		return f.Record == "app_app-cc1" && f.OnClassPath != nil && *f.OnClassPath
	}) {
		t.Error("app_app-cc1: gadget class presence on 3.5.8 not reported")
	}

	// Digest-only ACLs everywhere: nothing about ACLs.
	c2 := connect(t, srv.Addr())
	if err := c2.AddAuth("digest", []byte("spark:secret")); err != nil {
		t.Fatal(err)
	}
	digest := gozk.DigestACL(gozk.PermAll, "spark", "secret")
	create(t, c2, "/secure", nil, digest)
	create(t, c2, "/secure/master_status", nil, digest)
	create(t, c2, "/secure/leader_election", nil, digest)
	create(t, c2, "/secure/master_status/app_app-x", gadgetChain("java.util.Date"), digest)
	s2, err := zk.Open(ctx, zk.Options{Servers: srv.Addr(), SparkDir: "/secure", Auth: "spark:secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	acls2, err := DialZKACLs(ctx, srv.Addr(), "spark:secret", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer acls2.Close()
	rep2, err := Run(ctx, s2, Options{ZK: acls2, SparkDir: "/secure"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep2.Findings {
		if f.Check == CheckOpenACL || f.Check == CheckACLUnreadable {
			t.Errorf("digest-protected tree: %+v", f)
		}
	}
}

func TestOpenACL(t *testing.T) {
	for _, tt := range []struct {
		acl  []store.ACL
		open bool
	}{
		{[]store.ACL{{Perms: 31, Scheme: "world", ID: "anyone"}}, true},
		{[]store.ACL{{Perms: 1, Scheme: "world", ID: "anyone"}}, false}, // read-only
		{[]store.ACL{{Perms: 4, Scheme: "world", ID: "anyone"}}, true},  // create is enough to plant a record
		{[]store.ACL{{Perms: 31, Scheme: "digest", ID: "spark:abc="}}, false},
		{[]store.ACL{{Perms: 31, Scheme: "digest", ID: "spark:abc="}, {Perms: 1, Scheme: "world", ID: "anyone"}}, false},
	} {
		if got, _ := OpenACL(tt.acl); got != tt.open {
			t.Errorf("%+v: open = %v", tt.acl, got)
		}
	}
}

// A real capture copied into a world-writable directory, plus a second
// record of one worker and an app record under another app's name.
func TestDirectoryHygiene(t *testing.T) {
	src, err := filepath.Glob("../testdata/spark/3.5.8-2.12/filesystem/records/*")
	if err != nil || len(src) == 0 {
		t.Fatal("no 3.5.8-2.12 capture")
	}
	dir := t.TempDir()
	var worker, app string
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "worker_") && worker == "" {
			worker = name
			// The same worker persisted again under another id.
			if err := os.WriteFile(filepath.Join(dir, "worker_worker-20991231000000-127.0.0.1-1"), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if strings.HasPrefix(name, "app_") && app == "" {
			app = name
			planted := filepath.Join(dir, "app_app-20991231000000-9999")
			if err := os.WriteFile(planted, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(planted, 0o666); err != nil { // not subject to the umask
				t.Fatal(err)
			}
		}
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), s, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !has(rep.Findings, CheckWritableDir, dir) {
		t.Errorf("world-writable directory not reported: %+v", rep.Findings)
	}
	if !has(rep.Findings, CheckWritableFile, "app_app-20991231000000-9999") {
		t.Errorf("world-writable file not reported: %+v", rep.Findings)
	}
	if !has(rep.Findings, CheckDuplicate, worker) || !has(rep.Findings, CheckDuplicate, "worker_worker-20991231000000-127.0.0.1-1") {
		t.Errorf("duplicate worker not reported: %+v", rep.Findings)
	}
	if !has(rep.Findings, classes.CheckNameMismatch, "app_app-20991231000000-9999") || !has(rep.Findings, classes.CheckNameMismatch, "worker_worker-20991231000000-127.0.0.1-1") {
		t.Errorf("name/id mismatch not reported: %+v", rep.Findings)
	}
	// The directory made private: only the planted records remain findings.
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(context.Background(), s, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if has(rep.Findings, CheckWritableDir, dir) {
		t.Error("private directory reported")
	}
}
