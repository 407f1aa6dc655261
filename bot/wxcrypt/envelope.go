package wxcrypt

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Envelope is an encrypted reply: the passive reply a callback handler may
// write back to WeCom, or the body WeCom itself sends.
type Envelope struct {
	Encrypt   string
	Signature string
	Timestamp int64
	Nonce     string
}

// Seal encrypts msg and signs it with timestamp (Unix seconds) and nonce,
// which the caller generates (WeCom requires the nonce not to repeat within
// two hours).
func (c *Crypter) Seal(msg []byte, timestamp int64, nonce string) (Envelope, error) {
	enc, err := c.Encrypt(msg, nil)
	if err != nil {
		return Envelope{}, err
	}
	ts := strconv.FormatInt(timestamp, 10)
	return Envelope{Encrypt: enc, Signature: c.Signature(ts, nonce, enc), Timestamp: timestamp, Nonce: nonce}, nil
}

// XML renders the envelope as WeCom's XML reply:
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.
func (e Envelope) XML() []byte {
	var b strings.Builder
	b.WriteString("<xml><Encrypt>")
	b.WriteString(CDATA(e.Encrypt))
	b.WriteString("</Encrypt><MsgSignature>")
	b.WriteString(CDATA(e.Signature))
	b.WriteString("</MsgSignature><TimeStamp>")
	b.WriteString(strconv.FormatInt(e.Timestamp, 10))
	b.WriteString("</TimeStamp><Nonce>")
	b.WriteString(CDATA(e.Nonce))
	b.WriteString("</Nonce></xml>")
	return []byte(b.String())
}

// JSON renders the envelope as the JSON reply of the AI bot and of the JSON
// robot route: {"encrypt","msgsignature","timestamp","nonce"}, with the
// timestamp as a number.
func (e Envelope) JSON() []byte {
	b, _ := json.Marshal(struct {
		Encrypt   string `json:"encrypt"`
		Signature string `json:"msgsignature"`
		Timestamp int64  `json:"timestamp"`
		Nonce     string `json:"nonce"`
	}{e.Encrypt, e.Signature, e.Timestamp, e.Nonce})
	return b
}

// CDATA returns s as an XML CDATA section, splitting any "]]>" inside s so
// that the section cannot be closed early.
func CDATA(s string) string {
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

// ParseXMLEnvelope returns the Encrypt field of an encrypted XML POST body,
// such as <xml><ToUserName/><Encrypt>…</Encrypt><AgentID/></xml>. An
// unparsable body or an empty Encrypt yields an error wrapping ErrEnvelope.
func ParseXMLEnvelope(body []byte) (string, error) {
	var v struct {
		XMLName xml.Name `xml:"xml"`
		Encrypt string   `xml:"Encrypt"`
	}
	if err := xml.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("%w: %v", ErrEnvelope, err)
	}
	if v.Encrypt == "" {
		return "", fmt.Errorf("%w: no Encrypt", ErrEnvelope)
	}
	return v.Encrypt, nil
}

// ParseJSONEnvelope returns the encrypt field of an encrypted JSON POST body
// {"encrypt":"…"}. An unparsable body or an empty encrypt yields an error
// wrapping ErrEnvelope.
func ParseJSONEnvelope(body []byte) (string, error) {
	var v struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("%w: %v", ErrEnvelope, err)
	}
	if v.Encrypt == "" {
		return "", fmt.Errorf("%w: no encrypt", ErrEnvelope)
	}
	return v.Encrypt, nil
}
