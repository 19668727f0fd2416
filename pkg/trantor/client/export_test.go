package client

// Exported for the tests of package client_test.

// AppendSubmitFrame appends a submission frame to dst.
func AppendSubmitFrame(dst []byte, clientID string, txNo uint64, data []byte) []byte {
	return appendFrame(dst, kindSubmit, clientID, txNo, data)
}

// AppendReplyFrame appends a reply frame to dst.
func AppendReplyFrame(dst []byte, clientID string, txNo uint64, result []byte) []byte {
	return appendFrame(dst, kindReply, clientID, txNo, result)
}
