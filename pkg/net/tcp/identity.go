package tcp

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// protocolVersion is the version of the wire protocol, sent in the hello.
// Nodes refuse peers of another version.
const protocolVersion = 1

// ErrRefused is wrapped by the errors of a connection refused during
// set-up: no certificate, a key outside the membership, a hello claiming
// another node's ID, another protocol version.
var ErrRefused = errors.New("connection refused")

// hello is the first frame on a connection, from the dialer: who it is and
// whom it means to reach. The listener accepts it only if From is the node
// whose key the dialer proved it holds in the TLS handshake, and To is the
// listener itself.
type hello struct {
	Version uint
	From    stdtypes.NodeID
	To      stdtypes.NodeID
}

// maxHelloBytes bounds the hello frame: two IDs of at most
// membership.MaxIDBytes and a small number, with room for field names.
const maxHelloBytes = 2*membership.MaxIDBytes + 64

// helloDecoder decodes hellos within tight limits: they come from peers
// that are authenticated by key but not yet by ID.
var helloDecoder = func() *codec.Decoder {
	d, err := codec.NewDecoder(codec.Limits{MaxBytes: maxHelloBytes, MaxNestingDepth: 4, MaxArrayElements: 16, MaxMapPairs: 16})
	if err != nil {
		panic(err)
	}
	return d
}()

// ackByte is the listener's answer to an accepted hello, and the only byte
// a listener ever writes. Until the dialer has read it, it does not know
// whether the listener accepted its certificate: in TLS 1.3 the client's
// handshake ends before the server has checked the client's certificate.
const ackByte = 0x06

// appendHello appends h as a frame.
func appendHello(dst []byte, h hello) ([]byte, error) {
	body, err := codec.Marshal(h)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

// readHello reads a hello frame from br.
func readHello(br *bufio.Reader) (hello, error) {
	var hdr [frameHeaderBytes]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return hello{}, fmt.Errorf("read hello: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxHelloBytes {
		return hello{}, fmt.Errorf("%w: hello of %d bytes, at most %d", ErrRefused, n, maxHelloBytes)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return hello{}, fmt.Errorf("read hello: %w", err)
	}
	var h hello
	if err := helloDecoder.Unmarshal(body, &h); err != nil {
		return hello{}, fmt.Errorf("%w: bad hello: %w", ErrRefused, err)
	}
	return h, nil
}

// selfSignedCert returns a certificate for key, signed by key itself. No
// one checks the signature or the dates: peers pin the key (see
// peerKey). It carries the node's ID as common name for people reading
// packet captures.
func selfSignedCert(id stdtypes.NodeID, key crypto.PrivateKey) (tls.Certificate, error) {
	signer := key.Signer()
	if signer == nil {
		return tls.Certificate{}, errors.New("no private key")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mir node " + string(id)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(100 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse own certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer, Leaf: leaf}, nil
}

// peerKey returns the public key of the one certificate a peer presented.
// The TLS 1.3 handshake has proved that the peer holds its private key
// (CertificateVerify), which is all the certificate is for: who the key
// belongs to is the membership's business, not a CA's.
func peerKey(rawCerts [][]byte) (crypto.PublicKey, error) {
	if len(rawCerts) != 1 {
		return crypto.PublicKey{}, fmt.Errorf("%w: %d certificates, want 1", ErrRefused, len(rawCerts))
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return crypto.PublicKey{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	key, err := crypto.FromStdPublicKey(cert.PublicKey)
	if err != nil {
		return crypto.PublicKey{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return key, nil
}

// baseTLSConfig is what the listener's and the dialers' configurations
// share.
func baseTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// Full-size records from the first byte: the connections are long
		// and carry bulk traffic; small messages still go in small records.
		DynamicRecordSizingDisabled: true,
		// No resumption: connections are few and long-lived, and every one
		// proves its key afresh.
		SessionTicketsDisabled: true,
	}
}

// serverTLSConfig is the listener's configuration: a client must present a
// certificate whose key is in the membership. Which member it is, and
// whether it claims to be that member, is checked after the handshake.
func serverTLSConfig(cert tls.Certificate, members *membership.Membership) *tls.Config {
	c := baseTLSConfig(cert)
	// Any certificate, not one verified against CAs: VerifyPeerCertificate
	// pins keys instead.
	c.ClientAuth = tls.RequireAnyClientCert
	c.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		key, err := peerKey(rawCerts)
		if err != nil {
			return err
		}
		if _, ok := members.NodeByKey(key); !ok {
			return fmt.Errorf("%w: key not in the membership", ErrRefused)
		}
		return nil
	}
	return c
}

// clientTLSConfig is the configuration for dialing node id: the server
// must present the certificate of the key the membership gives id.
func clientTLSConfig(cert tls.Certificate, id stdtypes.NodeID, want crypto.PublicKey) *tls.Config {
	c := baseTLSConfig(cert)
	// No CA chain to verify: VerifyConnection, which runs all the same,
	// pins the peer's key.
	c.InsecureSkipVerify = true
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		var raw [][]byte
		for _, cert := range cs.PeerCertificates {
			raw = append(raw, cert.Raw)
		}
		key, err := peerKey(raw)
		if err != nil {
			return err
		}
		if !key.Equal(want) {
			return fmt.Errorf("%w: node %s presented a key that is not its key in the membership", ErrRefused, id)
		}
		return nil
	}
	return c
}
