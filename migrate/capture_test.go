package migrate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/migrate"
)

// TestCaptures migrates the state real Spark Masters left behind
// (testdata/spark/<version>/<variant>/records) along every road: the
// directory into ZooKeeper (payloads must come out plain Java
// serialization), on to another chroot and spark dir, back into a
// directory compressing as the capture did, and directory to directory.
func TestCaptures(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "spark", "*", "*", "records"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no captures under testdata/spark/*/*/records: run testdata/spark/generate.sh")
	}
	srv := startZK(t)
	for _, dir := range dirs {
		variant := filepath.Base(filepath.Dir(dir))
		version := filepath.Base(filepath.Dir(filepath.Dir(dir)))
		t.Run(version+"/"+variant, func(t *testing.T) {
			codec := ""
			if c, ok := strings.CutPrefix(variant, "filesystem-"); ok {
				codec = c
			}
			// Work on a copy: the fs store must see only the records.
			srcDir := t.TempDir()
			des, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, de := range des {
				data, err := os.ReadFile(filepath.Join(dir, de.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(srcDir, de.Name()), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			src := openFS(t, srcDir)
			before := snapshot(t, src)
			if len(before) == 0 {
				t.Fatalf("%s is empty", dir)
			}
			chroot := "/" + strings.NewReplacer(".", "_", "/", "_").Replace(version+"-"+variant)
			zkA := openZK(t, srv.Addr()+chroot, "", nil)
			_, res := migrateAll(t, src, zkA, migrate.Options{SourceCodec: codec})
			if res.Written == 0 {
				t.Fatal("nothing migrated")
			}
			checkTarget(t, before, snapshot(t, zkA), codec, "")

			zkB := openZK(t, srv.Addr()+chroot+"-ha", "/spark-ha", nil)
			migrateAll(t, zkA, zkB, migrate.Options{})
			checkTarget(t, snapshot(t, zkA), snapshot(t, zkB), "", "")

			back := openFS(t, t.TempDir())
			migrateAll(t, zkB, back, migrate.Options{TargetCodec: codec})
			checkTarget(t, snapshot(t, zkB), snapshot(t, back), "", codec)

			other := openFS(t, t.TempDir())
			migrateAll(t, src, other, migrate.Options{SourceCodec: codec, TargetCodec: "zstd"})
			checkTarget(t, before, snapshot(t, other), codec, "zstd")
			sameSnapshot(t, "source", before, snapshot(t, src))
		})
	}
}
