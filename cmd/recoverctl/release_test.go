package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/codec/classes"
)

// TestReleaseBuild runs scripts/release.sh for this machine's linux
// platform (all three take minutes more and differ only in GOOS/GOARCH)
// and checks what an operator installs: a static binary whose `version -o
// json` names the commit it was built from and the release version given,
// the man pages, completions and bill of materials beside it, and sums
// that match.
func TestReleaseBuild(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Fatalf("the release test runs the linux/amd64 or linux/arm64 build on such a machine, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v (the release is built from a git checkout)", err)
	}
	wantCommit := strings.TrimSpace(string(head))
	const wantVersion = "v0.0.0-releasetest"
	platform := "linux/" + runtime.GOARCH
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../../scripts/release.sh", "--version", wantVersion, "--platforms", platform, "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, b)
	}

	name := "recoverctl_" + wantVersion + "_linux_" + runtime.GOARCH
	checkSums(t, out, []string{name + ".tar.gz", name + ".sbom.txt"})
	files := unpack(t, filepath.Join(out, name+".tar.gz"), t.TempDir())
	for _, want := range []string{"recoverctl", "README.md", "SBOM.txt", "man/man1/recoverctl.1", "man/man1/recoverctl-ls.1",
		"completions/recoverctl.bash", "completions/_recoverctl", "completions/recoverctl.fish"} {
		if _, ok := files[name+"/"+want]; !ok {
			t.Errorf("archive lacks %s/%s", name, want)
		}
	}
	bin := files[name+"/recoverctl"]
	if bin == "" {
		t.Fatal("no binary in the archive")
	}
	if err := checkStatic(bin); err != nil {
		t.Errorf("release binary: %v", err)
	}
	sbom, _ := os.ReadFile(filepath.Join(out, name+".sbom.txt"))
	for _, want := range []string{"\tpath\tgithub.com/recoverctl/recoverctl/cmd/recoverctl", "\tdep\tgithub.com/spf13/cobra", "CGO_ENABLED=0", "-trimpath=true"} {
		if !strings.Contains(string(sbom), want) {
			t.Errorf("bill of materials lacks %q:\n%s", want, sbom)
		}
	}
	if man, _ := os.ReadFile(files[name+"/man/man1/recoverctl-ls.1"]); !strings.Contains(string(man), "RECOVERCTL_ZK") {
		t.Errorf("recoverctl-ls.1 does not document the environment variables")
	}

	raw, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("%s version -o json: %v", bin, err)
	}
	var v versionInfo
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("version -o json: %v: %s", err, raw)
	}
	if v.Commit != wantCommit || v.Version != wantVersion || v.CGO || v.Platform != platform || v.Module != "github.com/recoverctl/recoverctl" {
		t.Errorf("version -o json = %+v; want commit %s, version %s, no cgo, %s", v, wantCommit, wantVersion, platform)
	}
	if _, err := time.Parse(time.RFC3339, v.Date); err != nil {
		t.Errorf("date %q: %v", v.Date, err)
	}
	if !reflect.DeepEqual(v.SparkReleases, classes.Releases()) || len(v.SparkReleases) == 0 {
		t.Errorf("spark_releases = %v, want %v", v.SparkReleases, classes.Releases())
	}
	text, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(text), "recoverctl "+wantVersion+"\n") || !strings.Contains(string(text), wantCommit) {
		t.Errorf("--version: %v\n%s", err, text)
	}
}

// checkStatic: no program interpreter and no shared library needed, the
// two things that tie a Linux binary to the libc of the machine it was
// built on.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("has a PT_INTERP program header: dynamically linked")
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		return err
	}
	if len(needed) > 0 {
		return errors.New("needs shared libraries: " + strings.Join(needed, ", "))
	}
	return nil
}

func checkSums(t *testing.T, dir string, want []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		listed[file] = sum
	}
	for _, name := range want {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(data)
		if listed[name] != hex.EncodeToString(got[:]) {
			t.Errorf("SHA256SUMS says %s for %s, the file's is %x", listed[name], name, got)
		}
	}
	if len(listed) != len(want) {
		t.Errorf("SHA256SUMS lists %v, want %v", listed, want)
	}
}

// unpack extracts a .tar.gz into dir and maps each regular file's name to
// where it now is.
func unpack(t *testing.T, archive, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg || strings.Contains(hdr.Name, "..") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_EXCL, os.FileMode(hdr.Mode)&0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, io.LimitReader(tr, 256<<20)); err != nil {
			t.Fatal(err)
		}
		out.Close()
		files[hdr.Name] = p
	}
}

func TestReadVersion(t *testing.T) {
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/recoverctl/recoverctl", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "CGO_ENABLED", Value: "0"}, {Key: "GOOS", Value: "darwin"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		},
	}
	v := readVersion(info, "", "", "")
	want := versionInfo{Version: "v1.4.0", Module: "github.com/recoverctl/recoverctl", ModuleVersion: "v1.4.0",
		Commit: "0123456789abcdef0123456789abcdef01234567", Modified: true, Date: "2026-12-01T10:00:00Z",
		Go: "go1.26.8", Platform: "darwin/arm64"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("readVersion = %+v\nwant          %+v", v, want)
	}
	// The linked release version wins; the build information's commit
	// wins over a linked one.
	if v := readVersion(info, "v1.4.1-rc1", "ffff", "2020-01-01T00:00:00Z"); v.Version != "v1.4.1-rc1" || v.Commit != want.Commit || v.Date != want.Date {
		t.Errorf("with linked values: %+v", v)
	}
	// No VCS information (a git worktree, a source tarball): the linked
	// commit and date stand in; no version at all is "devel".
	bare := &debug.BuildInfo{Main: debug.Module{Path: "github.com/recoverctl/recoverctl", Version: "(devel)"}}
	if v := readVersion(bare, "", "abc123", "2026-12-02T00:00:00Z"); v.Version != "devel" || v.Commit != "abc123" || v.Date != "2026-12-02T00:00:00Z" {
		t.Errorf("bare build info: %+v", v)
	}
	if v := readVersion(nil, "", "", ""); v.Version != "devel" || v.Commit != "unknown" {
		t.Errorf("no build info: %+v", v)
	}
}

func TestVersionCommand(t *testing.T) {
	out, stderr, code := runRoot(t, "version", "-o", "json")
	var v versionInfo
	if code != exitOK || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("version -o json: exit %d, %s %s", code, out, stderr)
	}
	if !reflect.DeepEqual(v.SparkReleases, classes.Releases()) || v.Go != runtime.Version() || v.Module != "github.com/recoverctl/recoverctl" {
		t.Errorf("version -o json = %+v", v)
	}
	text, _, code := runRoot(t, "--version")
	if code != exitOK || !strings.HasPrefix(text, "recoverctl ") || !strings.Contains(text, strings.Join(classes.Releases(), ", ")) {
		t.Errorf("--version: exit %d:\n%s", code, text)
	}
}

// `go install github.com/recoverctl/recoverctl/cmd/recoverctl@latest`
// builds the module as published: its path must be the import path and
// go.mod must need no replace directive (go install refuses them).
func TestGoInstallable(t *testing.T) {
	raw, err := exec.Command("go", "mod", "edit", "-json", "../../go.mod").Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod struct {
		Module  struct{ Path string }
		Replace []any
		Exclude []any
	}
	if err := json.Unmarshal(raw, &mod); err != nil {
		t.Fatal(err)
	}
	if mod.Module.Path != "github.com/recoverctl/recoverctl" || len(mod.Replace) > 0 || len(mod.Exclude) > 0 {
		t.Errorf("go.mod: module %q, %d replace, %d exclude directives; go install ...@latest needs the import path and none", mod.Module.Path, len(mod.Replace), len(mod.Exclude))
	}
	info, ok := debug.ReadBuildInfo()
	if !ok || !strings.HasPrefix(info.Path, "github.com/recoverctl/recoverctl/cmd/recoverctl") {
		t.Errorf("test binary's main package %q", info.Path)
	}
}
