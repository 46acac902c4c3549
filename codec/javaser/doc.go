// Package javaser decodes the Java Object Serialization Stream Protocol
// (Java Object Serialization Specification, chapter 6) into a tree of plain Go
// values, so that recoverctl can read the records a Spark standalone Master
// persists (ApplicationInfo, DriverInfo, WorkerInfo written by
// java.io.ObjectOutputStream) without a JVM.
//
// It is a parser and nothing else: it never loads, resolves or runs a class,
// never calls readObject/readResolve logic, and never trusts a length in the
// input. Class-specific meaning (a scala List behind its SerializationProxy,
// a HashMap's buckets in its writeObject data) is left to callers, who get the
// raw material in [ClassData.Annotations] and can read it with an
// [AnnotationReader] the way the class's readObject would.
//
// It is not an encoder, and it does not understand the protocol-1
// Externalizable format (SC_EXTERNALIZABLE without SC_BLOCK_DATA), whose length
// is known only to the class's own readExternal; that case is reported with
// [ErrUnsupported].
//
// Values in the tree:
//
//	nil                    TC_NULL
//	string                 TC_STRING, TC_LONGSTRING (modified UTF-8 decoded;
//	                       an unpaired surrogate becomes U+FFFD)
//	*Object                TC_OBJECT
//	*Array                 TC_ARRAY
//	*Enum                  TC_ENUM
//	*Class                 TC_CLASS
//	*ClassDesc             TC_CLASSDESC, TC_PROXYCLASSDESC
//	BlockData              TC_BLOCKDATA, TC_BLOCKDATALONG (adjacent blocks merged)
//	int8 uint16 float64 float32 int32 int64 int16 bool
//	                       primitive fields B C D F I J S Z
//
// A TC_REFERENCE yields the very Go value its handle was given to, so shared
// and cyclic structures stay shared and cyclic; [Dump] and [Walk] are cycle
// safe. A TC_EXCEPTION in the stream ends decoding with an *[ExceptionError]
// holding the exception object the writer recorded.
//
// The tree may share memory with the input slice (byte arrays, block data):
// do not modify the input while the tree is in use. Structs, slices and
// string headers come from per-decode chunks, so a ~3 KB Spark record
// decodes with about 20 allocations.
//
// Use [Decode] for a record (header, one object, and the offset where it
// ended, so trailing bytes can be flagged), or a [Decoder] with
// [Decoder.ReadContent] to walk every top-level item of a stream.
//
// Every count and length read from the input is checked against the bytes
// that remain before anything is allocated, and against the limits in
// [Options] (nesting depth, handles, string and array lengths, and a total
// allocation budget), so decoding cost stays proportional to the input.
package javaser
