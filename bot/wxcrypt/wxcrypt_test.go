package wxcrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// Tencent's published sample (企业微信 回调加解密 示例).
const (
	sampleToken  = "QDG6eK"
	sampleKey    = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	sampleCorpID = "wx5823bf96d3bd56c7"
)

func sample(t *testing.T, receiveID string) *Crypter {
	t.Helper()
	c, err := New(sampleToken, sampleKey, receiveID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSampleVerifyURL(t *testing.T) {
	c := sample(t, sampleCorpID)
	got, err := c.VerifyURL("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780",
		"P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "1616140317555161061" {
		t.Fatalf("echo = %q", got)
	}
}

func TestSamplePOST(t *testing.T) {
	// The Encrypt of developer.work.weixin.qq.com/document/path/90968 (举例说明),
	// as in WeCom's sample libraries.
	body := `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`
	enc, err := ParseXMLEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := sample(t, sampleCorpID)
	plain, err := c.Open("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", enc)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		ToUserName   string
		FromUserName string
		MsgType      string
		Content      string
		MsgID        string `xml:"MsgId"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		t.Fatalf("%v in %s", err, plain)
	}
	if msg.FromUserName != "mycreate" || msg.MsgType != "text" || msg.Content != "hello" ||
		msg.MsgID != "4561255354251345929" || msg.ToUserName != sampleCorpID {
		t.Fatalf("decrypted %+v from %s", msg, plain)
	}

	// The same ciphertext is refused on a robot route (receiveid "") and
	// with a wrong signature.
	if _, err := sample(t, "").Decrypt(enc); !errors.Is(err, ErrReceiveID) {
		t.Errorf("robot route: err = %v, want ErrReceiveID", err)
	}
	if _, err := c.Open("477715d11cdb4164915debcba66cb864d751f3e7", "1409659813", "1372623149", enc); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered signature: err = %v, want ErrSignature", err)
	}
	if _, err := c.Open("477715d11cdb4164915debcba66cb864d751f3e6", "1409659814", "1372623149", enc); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered timestamp: err = %v, want ErrSignature", err)
	}
}

func TestNewValidatesKey(t *testing.T) {
	for _, tc := range []struct{ name, token, key string }{
		{"short key", sampleToken, sampleKey[:42]},
		{"long key", sampleToken, sampleKey + "A"},
		{"not base64", sampleToken, strings.Repeat("!", 43)},
		{"empty token", "", sampleKey},
	} {
		_, err := New(tc.token, tc.key, "")
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.key != "" && len(tc.key) > 3 && strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: error %q leaks the key", tc.name, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, receiveID := range []string{"", sampleCorpID} {
		c := sample(t, receiveID)
		for _, msg := range []string{"", "x", strings.Repeat("长", 11), strings.Repeat("a", 31), strings.Repeat("b", 32), strings.Repeat("c", 5000)} {
			enc, err := c.Encrypt([]byte(msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := base64.StdEncoding.DecodeString(enc)
			if len(raw)%32 != 0 {
				t.Errorf("ciphertext length %d is not padded to 32", len(raw))
			}
			got, err := c.Decrypt(enc)
			if err != nil || string(got) != msg {
				t.Fatalf("receiveid %q: Decrypt(Encrypt(%d bytes)) = %d bytes, %v", receiveID, len(msg), len(got), err)
			}
		}
	}
}

func TestReceiveIDMismatch(t *testing.T) {
	enc, err := sample(t, sampleCorpID).Encrypt([]byte("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"", "wx5823bf96d3bd56c8", sampleCorpID + "x"} {
		if _, err := sample(t, other).Decrypt(enc); !errors.Is(err, ErrReceiveID) {
			t.Errorf("receiveid %q: err = %v, want ErrReceiveID", other, err)
		}
	}
}

func TestDecryptRejectsMalformed(t *testing.T) {
	c := sample(t, "")
	valid, err := c.Encrypt([]byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(valid)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 0xff // garbles the last block, hence the padding
	for name, in := range map[string]string{
		"empty":          "",
		"bad base64":     "%%%",
		"not a block":    base64.StdEncoding.EncodeToString(raw[:len(raw)-1]),
		"one block":      base64.StdEncoding.EncodeToString(raw[:16]),
		"garbled":        base64.StdEncoding.EncodeToString(flipped),
		"unpadded zeros": base64.StdEncoding.EncodeToString(make([]byte, 64)),
	} {
		if _, err := c.Decrypt(in); !errors.Is(err, ErrCiphertext) {
			t.Errorf("%s: err = %v, want ErrCiphertext", name, err)
		}
	}
}

func TestDecryptRejectsLengthOutOfRange(t *testing.T) {
	c := sample(t, "")
	// A well padded plaintext whose length field claims more than it holds.
	plain := make([]byte, 64)
	copy(plain[16:20], []byte{0xff, 0xff, 0xff, 0xff})
	for i := 32; i < 64; i++ {
		plain[i] = 32
	}
	enc := encryptRaw(t, c, plain)
	if _, err := c.Decrypt(enc); !errors.Is(err, ErrCiphertext) {
		t.Fatalf("err = %v, want ErrCiphertext", err)
	}
}

func TestSealAndParseEnvelopes(t *testing.T) {
	c := sample(t, "")
	env, err := c.Seal([]byte(`{"msgtype":"text"}`), 1409659813, "nonce]]>x")
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		Encrypt, MsgSignature, Nonce string
		TimeStamp                    int64
	}
	if err := xml.Unmarshal(env.XML(), &x); err != nil {
		t.Fatal(err)
	}
	if x.Encrypt != env.Encrypt || x.Nonce != "nonce]]>x" || x.TimeStamp != 1409659813 {
		t.Fatalf("XML envelope %s", env.XML())
	}
	if !c.VerifySignature(x.MsgSignature, "1409659813", x.Nonce, x.Encrypt) {
		t.Fatal("XML envelope signature does not verify")
	}
	wantJSON := `{"encrypt":"` + env.Encrypt + `","msgsignature":"` + env.Signature + `","timestamp":1409659813,"nonce":"nonce]]\u003ex"}`
	if got := string(env.JSON()); got != wantJSON {
		t.Fatalf("JSON envelope\n got %s\nwant %s", got, wantJSON)
	}
	enc, err := ParseJSONEnvelope(env.JSON())
	if err != nil || enc != env.Encrypt {
		t.Fatalf("ParseJSONEnvelope = %q, %v", enc, err)
	}
	plain, err := c.Open(env.Signature, "1409659813", env.Nonce, enc)
	if err != nil || string(plain) != `{"msgtype":"text"}` {
		t.Fatalf("Open = %q, %v", plain, err)
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	for _, body := range []string{"", "<xml></xml>", "<xml><Encrypt></Encrypt></xml>", "<other><Encrypt>x</Encrypt></other>", "not xml"} {
		if _, err := ParseXMLEnvelope([]byte(body)); !errors.Is(err, ErrEnvelope) {
			t.Errorf("ParseXMLEnvelope(%q) err = %v", body, err)
		}
	}
	for _, body := range []string{"", "{}", `{"encrypt":""}`, `{"encrypt":1}`, "[]"} {
		if _, err := ParseJSONEnvelope([]byte(body)); !errors.Is(err, ErrEnvelope) {
			t.Errorf("ParseJSONEnvelope(%q) err = %v", body, err)
		}
	}
}

// encryptRaw encrypts an already framed and padded plaintext.
func encryptRaw(t *testing.T, c *Crypter, plain []byte) string {
	t.Helper()
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

func FuzzDecrypt(f *testing.F) {
	c, err := New(sampleToken, sampleKey, sampleCorpID)
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := c.Encrypt([]byte("<xml/>"), nil)
	for _, s := range []string{"", "=", "AAAA", valid, valid[:len(valid)-4],
		"P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		msg, err := c.Decrypt(s)
		if err == nil {
			// Whatever decrypts must survive a round trip.
			enc, err := c.Encrypt(msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			back, err := c.Decrypt(enc)
			if err != nil || !bytes.Equal(back, msg) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{"", "<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>", `{"encrypt":"abc"}`, "<xml><Encrypt>", `{"encrypt":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if enc, err := ParseXMLEnvelope(body); err == nil && enc == "" {
			t.Fatal("XML: empty encrypt without error")
		}
		if enc, err := ParseJSONEnvelope(body); err == nil && enc == "" {
			t.Fatal("JSON: empty encrypt without error")
		}
	})
}
