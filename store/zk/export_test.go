package zk

// SetBulkAddr sends the multiRead session of s to addr (a fault-injecting
// server in tests) instead of the server of its main session.
func SetBulkAddr(s *Store, addr string) { s.bulkAddr = addr }
