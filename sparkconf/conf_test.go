package sparkconf

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/want.golden")

// mapEnv turns a map into the injected environment.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// readEnvFile reads KEY=VALUE lines; a missing file is an empty environment.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	m := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// render prints everything Load and Recovery found, in a stable order.
func render(c *Conf) string {
	var b strings.Builder
	r := c.Recovery()
	fmt.Fprintf(&b, "mode: %s (raw %q from %s)\n", r.Mode, r.RawMode.Value, r.RawMode.Source)
	for _, f := range []struct {
		name string
		v    Value
	}{
		{"directory", r.Directory}, {"zookeeper.url", r.ZooKeeperURL}, {"zookeeper.dir", r.ZooKeeperDir},
		{"serializer", r.Serializer}, {"codec", r.CompressionCodec}, {"factory", r.Factory},
	} {
		fmt.Fprintf(&b, "%s: %q from %s\n", f.name, f.v.Value, f.v.Source)
	}
	if r.Mode == ModeZooKeeper {
		fmt.Fprintf(&b, "status path: %s\n", r.ZooKeeperStatusPath())
	}
	for _, s := range r.ZooKeeperAuth {
		fmt.Fprintf(&b, "zookeeper auth: %s=%q from %s\n", s.Key, s.Value, s.Source)
	}
	b.WriteString("spark conf:\n")
	for _, k := range c.Keys() {
		s, _ := c.Get(k)
		fmt.Fprintf(&b, "  %s=%q from %s\n", k, s.Value, s.Source)
		for _, sh := range s.Shadowed {
			fmt.Fprintf(&b, "    shadows %q from %s\n", sh.Value, sh.Source)
		}
	}
	b.WriteString("warnings:\n")
	for _, w := range c.Warnings {
		fmt.Fprintf(&b, "  %s\n", w)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "  %s\n", w)
	}
	return b.String()
}

func TestLoadGolden(t *testing.T) {
	cases, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name(), func(t *testing.T) {
			base := filepath.Join("testdata", "golden", tc.Name())
			env := readEnvFile(t, filepath.Join(base, "env"))
			c, err := Load(filepath.Join(base, "conf"), mapEnv(env))
			if err != nil {
				t.Fatal(err)
			}
			got := render(c)
			goldenPath := filepath.Join(base, "want.golden")
			if *update {
				if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("render mismatch (run go test -update after checking)\n--- got ---\n%s\n--- want ---\n%s", got, want)
			}
		})
	}
}

// writeConf creates a conf directory holding files.
func writeConf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The documented examples must resolve to the stores they describe, from
// the exact line that configures them.
func TestDocExamples(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		want    Recovery
		wantSrc Source
	}{
		{
			name: "zookeeper",
			env:  "SPARK_DAEMON_JAVA_OPTS=\"-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=zk1:2181,zk2:2181\"\n",
			want: Recovery{Mode: ModeZooKeeper, ZooKeeperURL: Value{Value: "zk1:2181,zk2:2181"}, ZooKeeperDir: Value{Value: "/spark"}},
		},
		{
			name: "filesystem",
			env:  "# comment\nexport SPARK_DAEMON_JAVA_OPTS=\"-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=/var/spark\"\n",
			want: Recovery{Mode: ModeFileSystem, Directory: Value{Value: "/var/spark"}, ZooKeeperDir: Value{Value: "/spark"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeConf(t, map[string]string{EnvFileName: tt.env}), nil)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Recovery()
			if r.Mode != tt.want.Mode || r.Directory.Value != tt.want.Directory.Value ||
				r.ZooKeeperURL.Value != tt.want.ZooKeeperURL.Value || r.ZooKeeperDir.Value != tt.want.ZooKeeperDir.Value {
				t.Errorf("got %+v, want %+v", r, tt.want)
			}
			line := strings.Count(tt.env, "\n") // the assignment is the last line
			want := Source{File: EnvFileName, Line: line, Var: VarDaemonJavaOpts}
			if r.RawMode.Source != want {
				t.Errorf("mode source = %v, want %v", r.RawMode.Source, want)
			}
			if r.Serializer.Value != SerializerJava || !r.Serializer.Source.IsDefault() {
				t.Errorf("serializer = %+v, want default JAVA", r.Serializer)
			}
			if len(c.Warnings)+len(r.Warnings) != 0 {
				t.Errorf("unexpected warnings: %v %v", c.Warnings, r.Warnings)
			}
		})
	}
}

// place is one way of setting a key; rank is Spark's precedence (higher
// wins): java-opts comes first on the java command line, then
// SPARK_DAEMON_JAVA_OPTS, then SPARK_MASTER_OPTS, and the JVM keeps the last
// -D; spark-defaults.conf only fills keys no -D set.
type place struct {
	name string
	rank int
	file string
	line func(val string) string
	src  Source
}

var places = []place{
	{"defaults", 0, DefaultsFileName, func(v string) string { return "spark.deploy.zookeeper.dir " + v }, Source{File: DefaultsFileName}},
	{"java-opts", 1, JavaOptsFileName, func(v string) string { return "-Dspark.deploy.zookeeper.dir=" + v }, Source{File: JavaOptsFileName}},
	{"daemon", 2, EnvFileName, func(v string) string {
		return `SPARK_DAEMON_JAVA_OPTS="$SPARK_DAEMON_JAVA_OPTS -Dspark.deploy.zookeeper.dir=` + v + `"`
	}, Source{File: EnvFileName, Var: VarDaemonJavaOpts}},
	{"master", 3, EnvFileName, func(v string) string {
		return `export SPARK_MASTER_OPTS="$SPARK_MASTER_OPTS -Dspark.deploy.zookeeper.dir=` + v + `"`
	}, Source{File: EnvFileName, Var: VarMasterOpts}},
}

func TestPrecedenceEveryPair(t *testing.T) {
	for _, a := range places {
		for _, b := range places {
			if a.name == b.name {
				continue
			}
			// a is written first (earlier line, or earlier in reading order).
			t.Run(a.name+"_then_"+b.name, func(t *testing.T) {
				files := map[string]string{}
				lines := map[string]int{}
				for _, p := range []struct {
					pl  place
					val string
				}{{a, "/" + a.name}, {b, "/" + b.name}} {
					// Filler lines make the expected line numbers differ per place.
					files[p.pl.file] += "\n"
					files[p.pl.file] += p.pl.line(p.val) + "\n"
					lines[p.pl.name] = strings.Count(files[p.pl.file], "\n")
				}
				c, err := Load(writeConf(t, files), nil)
				if err != nil {
					t.Fatal(err)
				}
				win, lose := a, b
				if b.rank > a.rank {
					win, lose = b, a
				}
				got, ok := c.Get(KeyZooKeeperDir)
				if !ok {
					t.Fatal("key not set")
				}
				wantSrc := win.src
				wantSrc.Line = lines[win.name]
				if got.Value != "/"+win.name || got.Source != wantSrc {
					t.Errorf("got %q from %v, want %q from %v", got.Value, got.Source, "/"+win.name, wantSrc)
				}
				if len(got.Shadowed) != 1 || got.Shadowed[0].Value != "/"+lose.name {
					t.Errorf("shadowed = %+v, want the %s definition", got.Shadowed, lose.name)
				}
				if r := c.Recovery(); r.ZooKeeperDir.Value != "/"+win.name {
					t.Errorf("Recovery().ZooKeeperDir = %q", r.ZooKeeperDir.Value)
				}
			})
		}
	}
}

func TestPrecedenceEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		script    string
		want      string
		wantSrc   Source
		shadowed  int
		wantUnset bool
	}{
		{
			name: "environment only",
			env:  map[string]string{VarMasterOpts: "-Dspark.deploy.zookeeper.dir=/env"},
			want: "/env", wantSrc: Source{File: SourceEnvironment, Var: VarMasterOpts},
		},
		{
			name:   "script appends to environment",
			env:    map[string]string{VarDaemonJavaOpts: "-Dspark.deploy.zookeeper.dir=/env"},
			script: `SPARK_DAEMON_JAVA_OPTS="${SPARK_DAEMON_JAVA_OPTS} -Dspark.deploy.zookeeper.dir=/file"`,
			want:   "/file", wantSrc: Source{File: EnvFileName, Line: 1, Var: VarDaemonJavaOpts}, shadowed: 1,
		},
		{
			name:   "script prepends to environment",
			env:    map[string]string{VarDaemonJavaOpts: "-Dspark.deploy.zookeeper.dir=/env"},
			script: `SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.zookeeper.dir=/file $SPARK_DAEMON_JAVA_OPTS"`,
			want:   "/env", wantSrc: Source{File: SourceEnvironment, Var: VarDaemonJavaOpts}, shadowed: 1,
		},
		{
			name:      "script replaces environment",
			env:       map[string]string{VarDaemonJavaOpts: "-Dspark.deploy.zookeeper.dir=/env"},
			script:    `SPARK_DAEMON_JAVA_OPTS=-Dspark.deploy.recoveryMode=NONE`,
			wantUnset: true,
		},
		{
			name:   "environment master beats script daemon",
			env:    map[string]string{VarMasterOpts: "-Dspark.deploy.zookeeper.dir=/env"},
			script: `SPARK_DAEMON_JAVA_OPTS=-Dspark.deploy.zookeeper.dir=/file`,
			want:   "/env", wantSrc: Source{File: SourceEnvironment, Var: VarMasterOpts}, shadowed: 1,
		},
		{
			name:      "unset drops the environment value",
			env:       map[string]string{VarMasterOpts: "-Dspark.deploy.zookeeper.dir=/env"},
			script:    "unset SPARK_MASTER_OPTS\n: nothing",
			wantUnset: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{DefaultsFileName: "spark.master spark://m:7077\n"}
			if tt.script != "" {
				files[EnvFileName] = tt.script + "\n"
			}
			c, err := Load(writeConf(t, files), mapEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := c.Get(KeyZooKeeperDir)
			if tt.wantUnset {
				if ok {
					t.Fatalf("got %+v, want unset", got)
				}
				return
			}
			if !ok || got.Value != tt.want || got.Source != tt.wantSrc || len(got.Shadowed) != tt.shadowed {
				t.Errorf("got %+v, want %q from %v shadowing %d", got, tt.want, tt.wantSrc, tt.shadowed)
			}
		})
	}
}

func TestModeMatching(t *testing.T) {
	tests := []struct {
		raw      string
		want     Mode
		warnings int
	}{
		{"ZOOKEEPER", ModeZooKeeper, 0},
		{"FILESYSTEM", ModeFileSystem, 0},
		{"ROCKSDB", ModeRocksDB, 1},
		{"CUSTOM", ModeCustom, 1},
		{"NONE", ModeNone, 1},
		{"zookeeper", ModeNone, 1},
		{"FileSystem", ModeNone, 1},
		{"'ZOOKEEPER '", ModeZooKeeper, 0}, // bash removes the quotes, the launcher the space
		{`"'ZOOKEEPER '"`, ModeNone, 1},    // quotes inside the option string keep the space
		{"BOGUS", ModeNone, 1},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			script := "SPARK_MASTER_OPTS=-Dspark.deploy.recoveryMode=" + tt.raw +
				"\nSPARK_DAEMON_JAVA_OPTS='-Dspark.deploy.zookeeper.url=zk:2181 -Dspark.deploy.recoveryDirectory=/r'\n"
			c, err := Load(writeConf(t, map[string]string{EnvFileName: script}), nil)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Recovery()
			if r.Mode != tt.want || len(r.Warnings) != tt.warnings {
				t.Errorf("mode %s with warnings %v; want %s with %d", r.Mode, r.Warnings, tt.want, tt.warnings)
			}
		})
	}
}

func TestSerializerAndCodec(t *testing.T) {
	tests := []struct {
		defaults   string
		serializer string
		codec      string
		warnings   int
	}{
		{"", "JAVA", "", 0},
		{"spark.deploy.recoverySerializer java", "JAVA", "", 0},
		{"spark.deploy.recoverySerializer Kryo", "KRYO", "", 1},
		{"spark.deploy.recoverySerializer avro", "avro", "", 1},
		{"spark.deploy.recoveryCompressionCodec ZSTD", "JAVA", "zstd", 0},
		{"spark.deploy.recoveryCompressionCodec org.apache.spark.io.LZFCompressionCodec", "JAVA", "lzf", 0},
		{"spark.deploy.recoveryCompressionCodec none", "JAVA", "none", 1},
	}
	for _, tt := range tests {
		t.Run(tt.defaults, func(t *testing.T) {
			c, err := Load(writeConf(t, map[string]string{
				DefaultsFileName: "spark.deploy.recoveryMode FILESYSTEM\nspark.deploy.recoveryDirectory /r\n" + tt.defaults + "\n",
			}), nil)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Recovery()
			if r.Serializer.Value != tt.serializer || r.CompressionCodec.Value != tt.codec || len(r.Warnings) != tt.warnings {
				t.Errorf("serializer %q codec %q warnings %v; want %q %q %d", r.Serializer.Value, r.CompressionCodec.Value, r.Warnings, tt.serializer, tt.codec, tt.warnings)
			}
		})
	}
}

func TestNoRecoveryWarns(t *testing.T) {
	c, err := Load(writeConf(t, map[string]string{EnvFileName: "SPARK_MASTER_HOST=m1\n"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Recovery()
	if r.Mode != ModeNone {
		t.Fatalf("mode = %s", r.Mode)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, "persists nothing") {
		t.Errorf("warnings = %v, want one saying nothing is persisted", r.Warnings)
	}
}

func TestWindowsLineEndings(t *testing.T) {
	lf := "# recovery\n" +
		"SPARK_DAEMON_JAVA_OPTS=\"-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=zk1:2181\"\n" +
		"\n" +
		"export SPARK_MASTER_OPTS=-Dspark.deploy.zookeeper.dir=/crlf\n"
	defaults := "spark.deploy.recoveryDirectory /d\nspark.deploy.recoverySerializer \\\n   JAVA\n"
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	c, err := Load(writeConf(t, map[string]string{EnvFileName: crlf(lf), DefaultsFileName: crlf(defaults)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Recovery()
	if r.Mode != ModeZooKeeper || r.ZooKeeperURL.Value != "zk1:2181" || r.ZooKeeperDir.Value != "/crlf" {
		t.Errorf("got %+v", r)
	}
	if r.ZooKeeperDir.Source.Line != 4 {
		t.Errorf("zookeeper.dir line = %d, want 4", r.ZooKeeperDir.Source.Line)
	}
	if r.Directory.Value != "/d" || r.Serializer.Value != "JAVA" {
		t.Errorf("defaults: directory %q serializer %q", r.Directory.Value, r.Serializer.Value)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "CRLF") {
		t.Errorf("warnings = %v, want exactly the CRLF one", c.Warnings)
	}

	// With CRLF a trailing backslash escapes the \r instead of the newline,
	// so bash does not continue the line; the second line is a command.
	cont := "SPARK_MASTER_OPTS=-Dspark.deploy.recoveryMode=FILESYSTEM\\\r\n-Dspark.deploy.recoveryDirectory=/x\r\n"
	c, err = Load(writeConf(t, map[string]string{EnvFileName: cont}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(KeyRecoveryDirectory); ok {
		t.Error("recoveryDirectory set through a CRLF continuation bash would not follow")
	}
	if m := c.Value(KeyRecoveryMode, ""); m != "FILESYSTEM" {
		t.Errorf("mode = %q, want FILESYSTEM (the escaped \\r splits the option)", m)
	}
}

func TestJavaOptsFileAndBadTokens(t *testing.T) {
	c, err := Load(writeConf(t, map[string]string{
		JavaOptsFileName: "-Xss4m\r\n-Dspark.deploy.recoveryMode=FILESYSTEM\r-Dspark.deploy.recoveryDirectory=/j\n",
		EnvFileName:      "SPARK_MASTER_OPTS='-Dspark.deploy.recoveryDirectory=/m oops'\nSPARK_DAEMON_JAVA_OPTS='-Dx=\"unbalanced'\n",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Get(KeyRecoveryDirectory)
	if d.Value != "/m" || len(d.Shadowed) != 1 || d.Shadowed[0].Source != (Source{File: JavaOptsFileName, Line: 3}) {
		t.Errorf("directory = %+v", d)
	}
	var mainClass, quote bool
	for _, w := range c.Warnings {
		mainClass = mainClass || strings.Contains(w.Message, `"oops" is not a JVM option`)
		quote = quote || strings.Contains(w.Message, "unbalanced quote")
	}
	if !mainClass || !quote {
		t.Errorf("warnings = %v, want the stray token and the unbalanced quote", c.Warnings)
	}
}

func TestDefaultsOnlySparkKeys(t *testing.T) {
	c, err := Load(writeConf(t, map[string]string{
		DefaultsFileName: "java.security.auth.login.config /etc/jaas\nspark.deploy.recoveryMode FILESYSTEM\nspark.deploy.recoveryMode ZOOKEEPER\n",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.SystemProperty("java.security.auth.login.config"); ok {
		t.Error("a spark-defaults.conf key became a system property")
	}
	m, _ := c.Get(KeyRecoveryMode)
	if m.Value != "ZOOKEEPER" || m.Source.Line != 3 || len(m.Shadowed) != 1 {
		t.Errorf("mode = %+v, want the last duplicate", m)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "only spark.* keys") {
		t.Errorf("warnings = %v", c.Warnings)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	withEnv := writeConf(t, map[string]string{EnvFileName: "X=1\n"})
	badProps := writeConf(t, map[string]string{DefaultsFileName: "a=1\nspark.x=\\u12G4\n"})
	tests := []struct {
		name     string
		dir      string
		opts     Options
		is       error
		wantPath string
		wantLine int
	}{
		{"missing dir", filepath.Join(empty, "nope"), Options{}, fs.ErrNotExist, filepath.Join(empty, "nope"), 0},
		{"dir is a file", file, Options{}, nil, file, 0},
		{"no conf files", empty, Options{}, ErrNoConfFiles, empty, 0},
		{"missing properties file", withEnv, Options{PropertiesFile: filepath.Join(withEnv, "x.conf")}, fs.ErrNotExist, filepath.Join(withEnv, "x.conf"), 0},
		{"malformed unicode escape", badProps, Options{}, errMalformedUnicode, filepath.Join(badProps, DefaultsFileName), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadWithOptions(tt.dir, nil, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != tt.wantPath || fe.Line != tt.wantLine {
				t.Fatalf("err = %v, want a FileError for %s line %d", err, tt.wantPath, tt.wantLine)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("message %q does not name %s", err, tt.wantPath)
			}
		})
	}
}

func TestPropertiesFileOption(t *testing.T) {
	dir := writeConf(t, map[string]string{DefaultsFileName: "spark.deploy.recoveryMode FILESYSTEM\n", "other.conf": "spark.deploy.recoveryMode ZOOKEEPER\n"})
	c, err := LoadWithOptions(dir, nil, Options{PropertiesFile: filepath.Join(dir, "other.conf")})
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Value(KeyRecoveryMode, ""); m != "ZOOKEEPER" {
		t.Errorf("mode = %q: --properties-file must replace spark-defaults.conf", m)
	}
}

func TestSparkEnvLoaded(t *testing.T) {
	dir := writeConf(t, map[string]string{EnvFileName: "SPARK_MASTER_OPTS=-Dspark.deploy.recoveryMode=ZOOKEEPER\n", DefaultsFileName: "spark.master x\n"})
	c, err := Load(dir, mapEnv(map[string]string{"SPARK_ENV_LOADED": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EnvFile != "" || c.Recovery().Mode != ModeNone || len(c.Warnings) != 1 {
		t.Errorf("EnvFile %q mode %s warnings %v", c.EnvFile, c.Recovery().Mode, c.Warnings)
	}
}

func TestFindDir(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
		err  error
	}{
		{map[string]string{"SPARK_CONF_DIR": "/etc/spark", "SPARK_HOME": "/opt/spark"}, "/etc/spark", nil},
		{map[string]string{"SPARK_CONF_DIR": "", "SPARK_HOME": "/opt/spark"}, "/opt/spark/conf", nil},
		{map[string]string{}, "", ErrNoConfDir},
	}
	for _, tt := range tests {
		got, err := FindDir(mapEnv(tt.env))
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("FindDir(%v) = %q, %v; want %q, %v", tt.env, got, err, tt.want, tt.err)
		}
		if err != nil && (!strings.Contains(err.Error(), "SPARK_CONF_DIR") || !strings.Contains(err.Error(), "SPARK_HOME")) {
			t.Errorf("error %q should say which variables to set", err)
		}
	}
	if _, err := FindDir(nil); !errors.Is(err, ErrNoConfDir) {
		t.Errorf("FindDir(nil) err = %v", err)
	}
}

func TestSourceString(t *testing.T) {
	tests := []struct {
		s    Source
		want string
	}{
		{Source{}, "default"},
		{Source{File: EnvFileName, Line: 12, Var: VarDaemonJavaOpts}, "spark-env.sh:12 SPARK_DAEMON_JAVA_OPTS"},
		{Source{File: SourceEnvironment, Var: VarMasterOpts}, "environment SPARK_MASTER_OPTS"},
		{Source{File: DefaultsFileName, Line: 3}, "spark-defaults.conf:3"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}
