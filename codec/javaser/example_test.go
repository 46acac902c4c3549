package javaser_test

import (
	"fmt"
	"os"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// A java.util.Date keeps its time in writeObject data; read it as
// Date.readObject does.
func Example() {
	data, err := os.ReadFile("testdata/gen/collections.ser")
	if err != nil {
		panic(err)
	}
	d := javaser.NewDecoder(data, javaser.Options{Record: "collections"})
	var date *javaser.Object
	for d.More() {
		v, err := d.ReadObject()
		if err != nil {
			panic(err)
		}
		if o, ok := v.(*javaser.Object); ok && o.ClassName() == "java.util.Date" {
			date = o
			break
		}
	}
	ms, err := date.Data("java.util.Date").Annotation().ReadLong()
	fmt.Println(ms, err)
	// Output: 1764300000123 <nil>
}
