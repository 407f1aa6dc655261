package wxcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Files sent to the AI bot are downloaded encrypted: AES-256-CBC with a
// 32-byte key, IV = key[:16], PKCS#7 padding to a multiple of 32 bytes, no
// header. The key is the message's aeskey (base64) on the long connection,
// the route's AESKey (KeyOf its EncodingAESKey) on the callback route; this
// is how WecomTeam/aibot-node-sdk's downloadFile decrypts them.

// KeyOf returns the 32-byte AESKey of an EncodingAESKey: base64decode(key + "=").
func KeyOf(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != encodedLen {
		return nil, fmt.Errorf("wxcrypt: EncodingAESKey must be %d characters, got %d", encodedLen, len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != keyLen {
		return nil, errors.New("wxcrypt: EncodingAESKey is not valid base64 of 32 bytes")
	}
	return key, nil
}

// FileKey decodes a file's aeskey: base64 of 32 bytes, padded or not.
func FileKey(aeskey string) ([]byte, error) {
	key, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(aeskey, "="))
	if err != nil || len(key) != keyLen {
		return nil, errors.New("wxcrypt: a file's aeskey must be base64 of 32 bytes")
	}
	return key, nil
}

// fileChunk is how much ciphertext DecryptFile decrypts at once.
const fileChunk = 64 << 10

// DecryptFile decrypts the file read from r with key and writes it to w, as
// it reads: memory stays at a chunk whatever the size. It returns the bytes
// written. A ciphertext that is not a whole number of blocks, or whose
// padding is wrong, is an error wrapping ErrCiphertext (what was written
// before it is garbage); errors of r and w are returned as they are.
func DecryptFile(w io.Writer, r io.Reader, key []byte) (int64, error) {
	if len(key) != keyLen {
		return 0, fmt.Errorf("wxcrypt: file key of %d bytes, want %d", len(key), keyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return 0, fmt.Errorf("wxcrypt: %w", err)
	}
	dec := cipher.NewCBCDecrypter(block, key[:aes.BlockSize])
	buf := make([]byte, fileChunk)
	held := make([]byte, 0, 2*padBlock) // the last bytes, which may be padding
	var n int64
	write := func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		return err
	}
	for {
		m, rerr := io.ReadFull(r, buf)
		if m%aes.BlockSize != 0 {
			return n, fmt.Errorf("%w: a file of %d bytes is not whole blocks", ErrCiphertext, m)
		}
		dec.CryptBlocks(buf[:m], buf[:m])
		held = append(held, buf[:m]...)
		if len(held) > padBlock {
			if err := write(held[:len(held)-padBlock]); err != nil {
				return n, err
			}
			held = append(held[:0], held[len(held)-padBlock:]...)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return n, rerr
		}
	}
	if len(held) == 0 {
		return 0, fmt.Errorf("%w: an empty file", ErrCiphertext)
	}
	rest, err := unpad(held)
	if err != nil {
		return n, err
	}
	return n, write(rest)
}

// EncryptFile encrypts a file as WeCom does for a download (the fake WeCom
// serves files so).
func EncryptFile(plain, key []byte) ([]byte, error) {
	if len(key) != keyLen {
		return nil, fmt.Errorf("wxcrypt: file key of %d bytes, want %d", len(key), keyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("wxcrypt: %w", err)
	}
	pad := padBlock - len(plain)%padBlock
	out := make([]byte, len(plain)+pad)
	copy(out, plain)
	for i := len(plain); i < len(out); i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(out, out)
	return out, nil
}
