package sparkconf

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadPropertiesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "spark-defaults.conf")
	body := "# comment\nspark.deploy.recoveryMode FILESYSTEM\nspark.deploy.recoveryDirectory = /a\nspark.deploy.recoveryDirectory\t  rel/dir  \nother:1\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPropertiesFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got["spark.deploy.recoveryDirectory"] != "rel/dir" || got["spark.deploy.recoveryMode"] != "FILESYSTEM" || got["other"] != "1" || len(got) != 3 {
		t.Errorf("got %q", got)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, MaxPropertiesFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("k=\\u12"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing"), dir, fifo, big, bad} {
		var fe *FileError
		if _, err := ReadPropertiesFile(p); !errors.As(err, &fe) || fe.Path != p {
			t.Errorf("%s: %v", p, err)
		}
	}
}
