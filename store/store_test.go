package store

import "testing"

func TestParseName(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		id   string
	}{
		{"app_app-20261124101010-0000", KindApp, "app-20261124101010-0000"},
		{"driver_driver-20261124101010-0001", KindDriver, "driver-20261124101010-0001"},
		{"worker_worker-20261124101010-127.0.0.1-40000", KindWorker, "worker-20261124101010-127.0.0.1-40000"},
		{"app_weird_id.with-dots", KindApp, "weird_id.with-dots"},
		{"app_", KindForeign, ""},
		{"apps_x", KindForeign, ""},
		{".nfs0001", KindForeign, ""},
		{"leader_election", KindForeign, ""},
		{"App_x", KindForeign, ""},
	}
	for _, tt := range tests {
		kind, id := ParseName(tt.name)
		if kind != tt.kind || id != tt.id {
			t.Errorf("ParseName(%q) = %v, %q; want %v, %q", tt.name, kind, id, tt.kind, tt.id)
		}
	}
}
