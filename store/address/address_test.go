package address

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		str  string // String(); "" means in
	}{
		{in: "fs:///var/spark/recovery", want: Address{Kind: KindFS, Dir: "/var/spark/recovery"}},
		{in: "fs:///var/spark/recovery/", want: Address{Kind: KindFS, Dir: "/var/spark/recovery"}, str: "fs:///var/spark/recovery"},
		{in: "fs:///var/spark/recovery?codec=lz4", want: Address{Kind: KindFS, Dir: "/var/spark/recovery", Codec: "lz4"}},
		{in: "fs:///r?codec=ZSTD", want: Address{Kind: KindFS, Dir: "/r", Codec: "zstd"}, str: "fs:///r?codec=zstd"},
		{in: "fs:///r?codec=none", want: Address{Kind: KindFS, Dir: "/r"}, str: "fs:///r"},
		{in: "fs:///with%20space/a%3Fb", want: Address{Kind: KindFS, Dir: "/with space/a?b"}, str: "fs:///with%20space/a%3Fb"},
		{in: "FS:///r", want: Address{Kind: KindFS, Dir: "/r"}, str: "fs:///r"},
		{in: "zk://zk1:2181", want: Address{Kind: KindZK, Hosts: []string{"zk1:2181"}, SparkDir: "/spark"}},
		{in: "zk://zk1:2181,zk2:2181", want: Address{Kind: KindZK, Hosts: []string{"zk1:2181", "zk2:2181"}, SparkDir: "/spark"}},
		{in: "zk://zk1:2181,zk2:2181/chroot/a", want: Address{Kind: KindZK, Hosts: []string{"zk1:2181", "zk2:2181"}, Chroot: "/chroot/a", SparkDir: "/spark"}},
		{in: "zk://zk1:2181/", want: Address{Kind: KindZK, Hosts: []string{"zk1:2181"}, SparkDir: "/spark"}, str: "zk://zk1:2181"},
		{in: "zk://zk1/ha?dir=/spark-prod", want: Address{Kind: KindZK, Hosts: []string{"zk1"}, Chroot: "/ha", SparkDir: "/spark-prod"}},
		{in: "zk://zk1:2181?dir=/spark", want: Address{Kind: KindZK, Hosts: []string{"zk1:2181"}, SparkDir: "/spark"}, str: "zk://zk1:2181"},
		{in: "zk://[::1]:2181", want: Address{Kind: KindZK, Hosts: []string{"[::1]:2181"}, SparkDir: "/spark"}},
		{in: "rocksdb:///var/spark/rocks", want: Address{Kind: KindRocksDB, Dir: "/var/spark/rocks"}},
		{in: "ROCKSDB:///var/spark/rocks/", want: Address{Kind: KindRocksDB, Dir: "/var/spark/rocks"}, str: "rocksdb:///var/spark/rocks"},
		{in: "rocksdb:///with%20space/a%3Fb", want: Address{Kind: KindRocksDB, Dir: "/with space/a?b"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want.Kind || got.Dir != tt.want.Dir || got.Codec != tt.want.Codec ||
				!slices.Equal(got.Hosts, tt.want.Hosts) || got.Chroot != tt.want.Chroot || got.SparkDir != tt.want.SparkDir {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Fatalf("String() = %q, want %q", got.String(), str)
			}
			again, err := Parse(got.String())
			if err != nil || again.String() != got.String() {
				t.Fatalf("round trip of %q: %v, %v", got.String(), again, err)
			}
		})
	}
}

func TestConnectString(t *testing.T) {
	a, err := Parse("zk://h1:1,h2:2/c?dir=/d")
	if err != nil {
		t.Fatal(err)
	}
	if a.ConnectString() != "h1:1,h2:2/c" {
		t.Fatalf("ConnectString = %q", a.ConnectString())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/var/spark/recovery", "no scheme"},
		{"file:///var/spark", "unknown scheme"},
		{"fs://", "no directory"},
		{"fs://host/var/spark", "absolute"},
		{"fs://relative", "absolute"},
		{"fs:///r?dir=/spark", "takes only codec"},
		{"fs:///r?colour=red", "unknown parameter"},
		{"fs:///r?codec=lz4&codec=zstd", "2 times"},
		{"fs:///r%zz", "path"},
		{"rocksdb://", "no directory"},
		{"rocksdb://host/var/spark", "rocksdb:///dir"},
		{"rocksdb:///r?codec=lz4", "never compresses"},
		{"rocksdb:///r%zz", "path"},
		{"zk://", "no ZooKeeper host"},
		{"zk:///chroot", "no ZooKeeper host"},
		{"zk://h1:2181,,h2:2181", "empty host"},
		{"zk://h1:port", "bad port"},
		{"zk://h1:", "bad port"},
		{"zk://:2181", "no host name"},
		{"zk://user:pw@h1:2181", "credentials"},
		{"zk://h1:2181/a//b", "chroot"},
		{"zk://h1:2181/a/", "chroot"},
		{"zk://h1:2181/a/..", "chroot"},
		{"zk://h1:2181?dir=spark", "must start with /"},
		{"zk://h1:2181?dir=/", "root"},
		{"zk://h1:2181?codec=lz4", "never compresses"},
		{"zk://h1:2181?chroot=/x", "unknown parameter"},
		{"zk://h1:2181?dir=%zz", "query"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.in)
			}
			if !errors.Is(err, ErrAddress) {
				t.Fatalf("error %v does not wrap ErrAddress", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}
