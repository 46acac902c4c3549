package classes

import (
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
