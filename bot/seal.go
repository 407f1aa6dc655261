package bot

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealBox encrypts a credential the store must keep (the access token, a
// callback's reply URL with its webhook key or response code): AES-256-GCM
// under a key derived by HKDF-SHA256 from a configured secret, bound to a
// purpose (the KV key of the token; "reply-url"). The nonce is derived from
// the plaintext (an HMAC under a second derived key), so one value always
// seals to one text: replicas that fetched the same token store the same
// value, and Invalidate deletes it by value. Two values never share a nonce
// unless they are equal.
type sealBox struct {
	aead  cipher.AEAD
	nonce []byte // key of the nonce HMAC
	ad    []byte // the purpose, as additional data
}

// sealBoxVersion starts every sealed value, for a later change of scheme.
const sealBoxVersion = "v1:"

// deriveKey derives a 32-byte key from secret by HKDF-SHA256, with salt and info.
func deriveKey(secret, salt, info string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, 32)
	if err != nil {
		panic(fmt.Sprintf("bot: derive a key: %v", err)) // only for lengths out of range
	}
	return k
}

func newSealBox(secret, purpose string) *sealBox {
	block, err := aes.NewCipher(deriveKey(secret, purpose, "yanzhen sealed value encryption"))
	if err != nil {
		panic(fmt.Sprintf("bot: token cipher: %v", err))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("bot: token cipher: %v", err))
	}
	return &sealBox{aead: aead, nonce: deriveKey(secret, purpose, "yanzhen sealed value nonce"), ad: []byte(purpose)}
}

// seal returns tok encrypted, as stored.
func (b *sealBox) seal(tok string) string {
	mac := hmac.New(sha256.New, b.nonce)
	mac.Write([]byte(tok))
	nonce := mac.Sum(nil)[:b.aead.NonceSize()]
	return sealBoxVersion + base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(tok), b.ad))
}

// open returns the value sealed in v, or an error when v was not sealed
// with this secret for this purpose.
func (b *sealBox) open(v string) (string, error) {
	data, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(v, sealBoxVersion))
	if err != nil || !strings.HasPrefix(v, sealBoxVersion) || len(data) < b.aead.NonceSize() {
		return "", errors.New("stored value is not sealed")
	}
	n := b.aead.NonceSize()
	tok, err := b.aead.Open(nil, data[:n], data[n:], b.ad)
	if err != nil {
		return "", fmt.Errorf("stored value does not open with this secret: %w", err)
	}
	return string(tok), nil
}
