// Package wxcrypt implements the message crypto shared by every WeCom (企业微信)
// callback route: the self-built app, the group robot and the AI bot
// (智能机器人).
//
// The scheme, as WeCom documents it:
//   - msg_signature is the lowercase hex SHA1 of the sorted strings
//     {token, timestamp, nonce, encrypt} joined without separator;
//   - AESKey = base64decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC with
//     IV = AESKey[:16]; PKCS#7 padding to a multiple of 32 bytes;
//   - plaintext = 16 random bytes | 4-byte big-endian message length |
//     message | receiveid, where receiveid is the CorpID for the self-built
//     app and the empty string for the robot routes.
//
// Errors never contain the token or the key.
package wxcrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Sentinel errors, to be tested with errors.Is. Returned errors may wrap them
// with more context.
var (
	// ErrSignature means msg_signature does not match the message.
	ErrSignature = errors.New("wxcrypt: signature mismatch")
	// ErrCiphertext means the encrypted text is not valid: bad base64, a
	// length that is not a whole number of blocks, bad padding or a length
	// field out of range.
	ErrCiphertext = errors.New("wxcrypt: malformed ciphertext")
	// ErrReceiveID means the message decrypted but was addressed to another
	// receiver (another CorpID, or a robot route's empty receiveid).
	ErrReceiveID = errors.New("wxcrypt: receiveid mismatch")
	// ErrEnvelope means an encrypted POST body has no usable Encrypt field.
	ErrEnvelope = errors.New("wxcrypt: malformed envelope")
)

const (
	keyLen     = 32 // AES-256
	padBlock   = 32 // WeCom pads to 32 bytes, not to the AES block size
	randomLen  = 16
	lengthLen  = 4
	headerLen  = randomLen + lengthLen
	encodedLen = 43 // length of an EncodingAESKey
)

// Crypter signs, verifies, encrypts and decrypts the messages of one callback
// route. It is safe for concurrent use.
type Crypter struct {
	token     string
	receiveID string
	key       []byte
	block     cipher.Block
}

// New returns a Crypter for a route configured with token and
// encodingAESKey; receiveID is the CorpID for the self-built app and "" for
// the group robot and the AI bot. The key must be 43 characters that decode
// to 32 bytes; the token must not be empty.
func New(token, encodingAESKey, receiveID string) (*Crypter, error) {
	if token == "" {
		return nil, errors.New("wxcrypt: empty token")
	}
	key, err := KeyOf(encodingAESKey)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("wxcrypt: %w", err)
	}
	return &Crypter{token: token, receiveID: receiveID, key: key, block: block}, nil
}

// Signature returns the msg_signature of encrypt sent with timestamp and
// nonce: the lowercase hex SHA1 of the four sorted strings.
func (c *Crypter) Signature(timestamp, nonce, encrypt string) string {
	parts := []string{c.token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// VerifySignature reports whether sig is the signature of encrypt sent with
// timestamp and nonce. The comparison takes constant time.
func (c *Crypter) VerifySignature(sig, timestamp, nonce, encrypt string) bool {
	want := c.Signature(timestamp, nonce, encrypt)
	return subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1
}

// Open verifies the signature of encrypt and decrypts it. It is what a
// callback handler calls for a POST once the envelope is parsed.
func (c *Crypter) Open(sig, timestamp, nonce, encrypt string) ([]byte, error) {
	if !c.VerifySignature(sig, timestamp, nonce, encrypt) {
		return nil, ErrSignature
	}
	return c.Decrypt(encrypt)
}

// VerifyURL answers WeCom's URL verification GET: it verifies the signature
// of echostr (already URL-decoded) and returns the decrypted plaintext, which
// the handler writes back as the response body, as is, within one second.
func (c *Crypter) VerifyURL(sig, timestamp, nonce, echostr string) ([]byte, error) {
	return c.Open(sig, timestamp, nonce, echostr)
}

// Decrypt decrypts encrypt (base64 text) and returns the message, after
// checking the padding, the length field and the receiveid. It never panics:
// any malformed input yields an error wrapping ErrCiphertext, and a message
// for another receiver yields ErrReceiveID. Decrypt does not check the
// signature; use Open for untrusted input.
func (c *Crypter) Decrypt(encrypt string) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", ErrCiphertext)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: length %d is not a positive multiple of %d", ErrCiphertext, len(data), aes.BlockSize)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(plain, data)
	plain, err = unpad(plain)
	if err != nil {
		return nil, err
	}
	if len(plain) < headerLen {
		return nil, fmt.Errorf("%w: plaintext too short", ErrCiphertext)
	}
	n := uint64(binary.BigEndian.Uint32(plain[randomLen:headerLen]))
	if n > uint64(len(plain)-headerLen) {
		return nil, fmt.Errorf("%w: length field out of range", ErrCiphertext)
	}
	msg := plain[headerLen : headerLen+int(n)]
	if string(plain[headerLen+int(n):]) != c.receiveID {
		return nil, ErrReceiveID
	}
	return msg, nil
}

// unpad strips PKCS#7 padding to a multiple of 32 bytes.
func unpad(b []byte) ([]byte, error) {
	pad := int(b[len(b)-1])
	if pad == 0 || pad > padBlock || pad > len(b) {
		return nil, fmt.Errorf("%w: bad padding", ErrCiphertext)
	}
	for _, v := range b[len(b)-pad:] {
		if int(v) != pad {
			return nil, fmt.Errorf("%w: bad padding", ErrCiphertext)
		}
	}
	return b[:len(b)-pad], nil
}

// Encrypt encrypts msg for this route's receiveid and returns the base64
// text that goes into an Encrypt field. The 16 leading random bytes are read
// from random; nil means crypto/rand.
func (c *Crypter) Encrypt(msg []byte, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	if uint64(len(msg)) > 1<<32-1 {
		return "", errors.New("wxcrypt: message too long")
	}
	var buf bytes.Buffer
	buf.Grow(headerLen + len(msg) + len(c.receiveID) + padBlock)
	if _, err := io.CopyN(&buf, random, randomLen); err != nil {
		return "", fmt.Errorf("wxcrypt: read random bytes: %w", err)
	}
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.Write(msg)
	buf.WriteString(c.receiveID)
	pad := padBlock - buf.Len()%padBlock
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))

	out := buf.Bytes()
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(out, out)
	return base64.StdEncoding.EncodeToString(out), nil
}
