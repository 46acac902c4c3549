package sparkconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/regularfile"
)

// loadWithin runs LoadWithOptions and fails the test if it blocks: a FIFO
// opened for reading waits for a writer, /dev/zero never ends.
func loadWithin(t *testing.T, dir string, opts Options) (*Conf, error) {
	t.Helper()
	type result struct {
		c   *Conf
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := LoadWithOptions(dir, nil, opts)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("Load still blocked after 10s")
		return nil, nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

const recoveryLine = "spark.deploy.recoveryMode FILESYSTEM\nspark.deploy.recoveryDirectory /var/spark/recovery\n"

// A spark-env.sh, java-opts or spark-defaults.conf in the conf directory
// that is no regular file is skipped, as load-spark-env.sh (-f) and the
// launcher (File.isFile) skip it, with a warning, and never read.
func TestConfDirFilesThatAreNotRegularAreSkipped(t *testing.T) {
	for _, name := range []string{EnvFileName, JavaOptsFileName, DefaultsFileName} {
		for _, kind := range []string{"fifo", "/dev/zero"} {
			t.Run(name+" "+kind, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, name)
				if kind == "fifo" {
					mkfifo(t, path)
				} else if err := os.Symlink("/dev/zero", path); err != nil {
					t.Fatal(err)
				}
				if name != DefaultsFileName {
					if err := os.WriteFile(filepath.Join(dir, DefaultsFileName), []byte(recoveryLine), 0o644); err != nil {
						t.Fatal(err)
					}
				} else if err := os.WriteFile(filepath.Join(dir, EnvFileName), []byte("SPARK_DAEMON_JAVA_OPTS=-Dspark.deploy.recoveryMode=FILESYSTEM\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				c, err := loadWithin(t, dir, Options{})
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := c.Recovery().Mode; got != ModeFileSystem {
					t.Errorf("mode %s: the regular files beside it must still be read", got)
				}
				warned := false
				for _, w := range c.Warnings {
					if w.Source.File == name && strings.Contains(w.Message, "not a regular file") {
						warned = true
					}
				}
				if !warned {
					t.Errorf("no warning naming %s: %v", name, c.Warnings)
				}
			})
		}
	}
}

// A --properties-file that is no regular file, or one or a spark-env.sh
// larger than MaxFileSize, is an error, found before the file is read.
func TestHostileConfFilesAreRefused(t *testing.T) {
	big := func(t *testing.T, path string) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// Sparse: 1 GiB on paper, nothing on disk, refused from its size.
		if err := f.Truncate(1 << 30); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T, dir string) Options
		wantErr error
	}{
		{"--properties-file FIFO", func(t *testing.T, dir string) Options {
			p := filepath.Join(dir, "props.conf")
			mkfifo(t, p)
			return Options{PropertiesFile: p}
		}, regularfile.ErrNotRegular},
		{"--properties-file /dev/zero", func(t *testing.T, dir string) Options {
			return Options{PropertiesFile: "/dev/zero"}
		}, regularfile.ErrNotRegular},
		{"--properties-file 1 GiB", func(t *testing.T, dir string) Options {
			p := filepath.Join(dir, "props.conf")
			big(t, p)
			return Options{PropertiesFile: p}
		}, regularfile.ErrTooLarge},
		{"--properties-file cap+1", func(t *testing.T, dir string) Options {
			p := filepath.Join(dir, "props.conf")
			if err := os.WriteFile(p, []byte(recoveryLine+strings.Repeat("#", MaxFileSize+1-len(recoveryLine))), 0o644); err != nil {
				t.Fatal(err)
			}
			return Options{PropertiesFile: p}
		}, regularfile.ErrTooLarge},
		{"spark-env.sh 1 GiB", func(t *testing.T, dir string) Options {
			big(t, filepath.Join(dir, EnvFileName))
			return Options{}
		}, regularfile.ErrTooLarge},
		{"spark-defaults.conf 1 GiB", func(t *testing.T, dir string) Options {
			big(t, filepath.Join(dir, DefaultsFileName))
			return Options{}
		}, regularfile.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := tc.make(t, dir)
			_, err := loadWithin(t, dir, opts)
			var fe *FileError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &fe) {
				t.Fatalf("Load = %v, want a *FileError matching %v", err, tc.wantErr)
			}
		})
	}
	// At the cap exactly, a properties file is read.
	dir := t.TempDir()
	p := filepath.Join(dir, "props.conf")
	if err := os.WriteFile(p, []byte(recoveryLine+strings.Repeat("#", MaxFileSize-len(recoveryLine))), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadWithin(t, dir, Options{PropertiesFile: p})
	if err != nil || c.Recovery().Mode != ModeFileSystem {
		t.Fatalf("a %d-byte properties file: %v", MaxFileSize, err)
	}
}
