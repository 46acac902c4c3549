// Package classes finds, in the bytes of Spark recovery records, what would
// attack or break the next Master that deserializes them: classes outside
// what Spark persists, classes of known gadget chains, extra top-level
// contents and trailing bytes, and class descriptors that a given Spark
// version's classes would refuse (serialVersionUID, field types, missing
// classes), following the Java Object Serialization Specification, chapter
// 5, and ObjectInputStream's actual checks.
//
// It is pure analysis of bytes and decoded trees: it never loads, resolves
// or runs a class, never reaches a store and never prints. Store hygiene
// (ACLs, file modes, duplicates across records) is the top-level audit package's job.
//
// The data it judges by is embedded: gadgets.json (known gadget classes,
// each with the public chain and library it comes from), allow.txt (the
// JDK, Scala and Spark classes real Masters were seen to persist), both
// parsed on first use, and package classdesc (the class descriptors of
// every Spark release from 2.4.0 on, generated from its jars by
// testdata/classdesc/gen.sh).
package classes
