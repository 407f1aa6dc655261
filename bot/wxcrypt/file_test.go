package wxcrypt_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"yanzhen/bot/wxcrypt"
)

// Files of every size around the chunk and padding edges come back whole.
func TestFileRoundTrip(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 15, 16, 31, 32, 33, 64<<10 - 1, 64 << 10, 64<<10 + 1, 64<<10 + 32, 200<<10 + 7} {
		plain := make([]byte, size)
		if _, err := rand.Read(plain); err != nil {
			t.Fatal(err)
		}
		enc, err := wxcrypt.EncryptFile(plain, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc)%32 != 0 || len(enc) <= size {
			t.Errorf("size %d: ciphertext of %d bytes", size, len(enc))
		}
		var out bytes.Buffer
		n, err := wxcrypt.DecryptFile(&out, bytes.NewReader(enc), key)
		if err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), plain) {
			t.Errorf("size %d: decrypted %d bytes, equal %v, %v", size, n, bytes.Equal(out.Bytes(), plain), err)
		}
	}
}

// A wrong key, a cut file and a file of no whole blocks are refused.
func TestFileRefusesBadCiphertext(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	enc, err := wxcrypt.EncryptFile([]byte("工单编号,受理时间\n"), key)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		data []byte
		key  []byte
	}{
		"wrong key":   {enc, other},
		"not blocks":  {enc[:len(enc)-3], key},
		"empty":       {nil, key},
		"cut a block": {enc[:len(enc)-16], key},
	} {
		if _, err := wxcrypt.DecryptFile(&bytes.Buffer{}, bytes.NewReader(c.data), c.key); !errors.Is(err, wxcrypt.ErrCiphertext) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An aeskey is base64 of 32 bytes, with its padding or without.
func TestFileKey(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	for _, s := range []string{base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw)} {
		if k, err := wxcrypt.FileKey(s); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("FileKey(%q) = %x, %v", s, k, err)
		}
	}
	if _, err := wxcrypt.FileKey("c2hvcnQ="); err == nil {
		t.Error("a short key: want an error")
	}
	if k, err := wxcrypt.KeyOf("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"); err != nil || len(k) != 32 {
		t.Errorf("KeyOf: %x %v", k, err)
	}
}
