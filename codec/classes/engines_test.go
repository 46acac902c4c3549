package classes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The engines as each release's spark-core has them (engines.go).
func TestEngineOf(t *testing.T) {
	for _, tt := range []struct {
		spark, engine, want string
		filter, ok          bool
	}{
		{"2.4.0", "zookeeper", OnUnreadableDelete, false, true},
		{"3.5.8", "zk", OnUnreadableDelete, false, true},
		{"4.2.0", "zookeeper", OnUnreadableDelete, false, true},
		{"4.3.0", "zookeeper", OnUnreadableDelete, true, true},
		{"2.4.8", "filesystem", OnUnreadableStop, false, true},
		{"4.2.0", "fs", OnUnreadableStop, false, true},
		{"4.3.0", "filesystem", OnUnreadableQuarantine, false, true},
		{"3.5.9", "rocksdb", "", false, false},
		{"4.0.0", "rocksdb", OnUnreadableStop, false, true},
		{"4.3.0", "rocksdb", OnUnreadableStop, false, true},
		{"4.3.0", "", "", false, false},
	} {
		e, ok := EngineOf(tt.spark, tt.engine)
		if ok != tt.ok || e.OnUnreadable != tt.want || e.Filter != tt.filter {
			t.Errorf("EngineOf(%s, %s) = %+v, %v", tt.spark, tt.engine, e, ok)
		}
	}
	if got := (Engine{OnUnreadable: OnUnreadableQuarantine}).Effect("app_a"); got != "quarantined as corrupted_app_a" {
		t.Errorf("quarantine effect %q", got)
	}
}

func TestQuarantined(t *testing.T) {
	for name, want := range map[string]string{
		"corrupted_app_app-20261128050053-0000": "app_app-20261128050053-0000",
		"corrupted_worker_w-1":                  "worker_w-1",
		"corrupted_notes.txt":                   "",
		"corrupted_":                            "",
		"app_app-1":                             "",
	} {
		got, ok := Quarantined(name)
		if got != want || ok != (want != "") {
			t.Errorf("Quarantined(%q) = %q, %v", name, got, ok)
		}
	}
}

// A compressed record to a release before 4.0 fails on the codec's magic
// bytes, as ObjectInputStream's header check words it; 4.0 reads it.
func TestPredictCompressed(t *testing.T) {
	raw := []byte("LZ4Block\x10...")
	p, ok := PredictCompressed("app_a", raw, release(t, "3.5.8"), "filesystem")
	if !ok || p.Verdict != VerdictFails || p.Exception != "java.io.StreamCorruptedException" || p.Reason != "invalid stream header: 4C5A3442" {
		t.Errorf("3.5.8: %+v, %v", p, ok)
	}
	if _, ok := PredictCompressed("app_a", raw, release(t, "4.0.5"), "filesystem"); ok {
		t.Error("4.0.5 reads compressed records")
	}
}

// A 4.3 ZooKeeper Master skips, without deleting, a record naming a class
// its recovery filter rejects, even one it could otherwise read; a 4.2
// Master, which has no filter, reads it. Another release's own records
// name JDK, Scala and Spark classes only: the default filter passes them,
// and their serialVersionUID failures still delete them.
func TestRecoveryFilter(t *testing.T) {
	if f := defaultRecoveryFilter(); f == nil || f.String() != DefaultRecoveryFilter {
		t.Fatalf("default filter %v", f)
	}
	t43, t42 := release(t, "4.3.0"), release(t, "4.2.0")
	// commons-collections4 is on 4.3.0's class path, outside the filter.
	const tc = "org.apache.commons.collections4.comparators.TransformingComparator"
	data := chain(tc, "java.util.ArrayList")
	p := Record("app_x", data, Options{Target: t43, Engine: "zookeeper"}).Prediction
	if p.Verdict != VerdictSkipped || p.Class != tc || !strings.Contains(p.Effect, "!*") {
		t.Errorf("4.3.0: %+v", p)
	}
	// A class not on the class path is undecided for the filter: the
	// ClassNotFoundException deletes the znode.
	if p := Record("app_x", chain("com.example.Custom", "java.util.ArrayList"), Options{Target: t43, Engine: "zookeeper"}).Prediction; p.Verdict == VerdictSkipped {
		t.Errorf("class not on the class path: %+v", p)
	}
	if p := Record("app_x", data, Options{Target: t43, Engine: "filesystem"}).Prediction; p.Verdict == VerdictSkipped {
		t.Errorf("4.3.0 filesystem has no filter: %+v", p)
	}
	if p := Record("app_x", data, Options{Target: t42, Engine: "zookeeper"}).Prediction; p.Verdict == VerdictSkipped {
		t.Errorf("4.2.0: %+v", p)
	}
	// A descriptor that fails before the rejected class is read decides.
	if p := Record("app_x", chain("java.util.ArrayList", tc), Options{Target: t43, Engine: "zookeeper"}).Prediction; p.Verdict != VerdictDropped || p.Class != "java.util.ArrayList" {
		t.Errorf("failure before the rejected class: %+v", p)
	}
	open, _ := ParseFilter("*")
	if p := Record("app_x", data, Options{Target: t43, Engine: "zookeeper", RecoveryFilter: open}).Prediction; p.Verdict == VerdictSkipped {
		t.Errorf("filter '*': %+v", p)
	}
	for _, f := range captures(t)["3.5.8-2.12"] {
		b, _ := os.ReadFile(f)
		if p := Record(filepath.Base(f), b, Options{Target: t43, Engine: "zookeeper"}).Prediction; p.Verdict != VerdictDropped {
			t.Errorf("%s: %+v", f, p)
		}
	}
}
