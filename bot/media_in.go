package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/silenceper/wechat/v2/util"

	"yanzhen/bot/wxcrypt"
	"yanzhen/config"
	"yanzhen/models"
)

// Files sent to the bot (the 12345 office's daily export) arrive two ways;
// the group robot receives none.
//   - A file message to the self-built app carries a MediaId: the file is
//     fetched with media/get and the access token, while WeCom keeps it
//     (three days).
//   - A file message to the AI bot (a single chat) carries a download URL,
//     valid five minutes, of the file encrypted as wxcrypt.DecryptFile
//     reads it: with the message's aeskey on the long connection, with the
//     callback's EncodingAESKey on the callback route. This is how
//     WecomTeam/aibot-node-sdk's downloadFile fetches and decrypts them.
//
// The reference is stored with the message (models.Inbound.Attachment),
// sealed as reply URLs are (a link and its aeskey are a credential of their
// own), and fetched only when a handler asks (FetchAttachment), so that a
// member who may not import has nothing downloaded.

// attachment is what models.Inbound.Attachment holds, as JSON.
type attachment struct {
	MediaID string `json:"media_id,omitempty"` // the app's file
	URL     string `json:"url,omitempty"`      // the AI bot's file
	AESKey  string `json:"aeskey,omitempty"`   // the AI bot's file on the long connection
	Name    string `json:"name,omitempty"`     // the file name, when the message gives it
}

// encode returns the reference as models.Inbound.Attachment holds it.
func (a attachment) encode() string {
	b, _ := json.Marshal(a) // strings only: cannot fail
	return string(b)
}

// appAttachment is the reference of a file message to the app.
func appAttachment(m *appXML) string {
	if m.MediaID == "" {
		return ""
	}
	return attachment{MediaID: m.MediaID, Name: m.FileName}.encode()
}

// jsonAttachment is the reference of a file message to the AI bot.
func jsonAttachment(m *robotJSON) string {
	if m.File.URL == "" {
		return ""
	}
	return attachment{URL: m.File.URL, AESKey: m.File.AESKey}.encode()
}

// inFiles keeps and fetches the files messages carry.
type inFiles struct {
	client   *client
	http     *http.Client // client.http without its overall timeout: a download may be long; ctx bounds it
	aibotKey []byte       // the AI bot callback's AESKey; nil when that route is off
	box      *sealBox     // seals the stored references
}

// newInFiles returns the files of a configuration: references sealed under
// a key derived from every configured secret.
func newInFiles(c *client, w config.WeCom) *inFiles {
	dl := *c.http
	dl.Timeout = 0
	secret := strings.Join([]string{w.AppCallback.AESKey.Reveal(), w.Robot.AESKey.Reveal(), w.AIBot.AESKey.Reveal(),
		w.AIBot.Secret.Reveal(), w.Secret.Reveal()}, "\x00")
	f := &inFiles{client: c, http: &dl, box: newSealBox(secret, "attachment")}
	if k := w.AIBot.AESKey.Reveal(); k != "" {
		f.aibotKey, _ = wxcrypt.KeyOf(k) // checked by the callback route already
	}
	return f
}

// keep returns what a row stores for an attachment reference: sealed.
func (f *inFiles) keep(ref string) string {
	if ref == "" {
		return ""
	}
	return f.box.seal(ref)
}

// open returns the reference a stored value stands for.
func (f *inFiles) open(stored string) (attachment, error) {
	var a attachment
	ref, err := f.box.open(stored)
	if err != nil {
		return a, err
	}
	return a, json.Unmarshal([]byte(ref), &a)
}

// errFileGone is what a member is told when WeCom no longer has the file.
var errFileGone = models.Errorf(models.EINVALID, "文件已过期或无法下载，请重新发送该文件")

// FetchAttachment writes the file a message carries to w and returns its
// name, as WeCom names it, and its size. It writes at most limit+1 bytes: a
// larger file returns a size over limit, with nothing written when WeCom
// said the size beforehand. A message without a file, or a file WeCom no
// longer has (the AI bot's link lasts five minutes), is an EINVALID error
// with the member's words; a failure of WeCom or of the network, anything
// else (try again). No error carries the link, its key or the token.
func (b *Bot) FetchAttachment(ctx context.Context, in *models.Inbound, w io.Writer, limit int64) (string, int64, error) {
	if in.Attachment == "" {
		return "", 0, models.Errorf(models.EINVALID, "该消息没有可导入的文件")
	}
	a, err := b.files.open(in.Attachment)
	if err != nil { // sealed under secrets since changed
		return "", 0, errFileGone
	}
	if a.MediaID != "" {
		return b.files.media(ctx, a, w, limit)
	}
	return b.files.download(ctx, in.Route, a, w, limit)
}

// media fetches an app's file with media/get.
func (f *inFiles) media(ctx context.Context, a attachment, w io.Writer, limit int64) (string, int64, error) {
	var name string
	var size int64
	err := f.client.withToken(ctx, func(tok string) error {
		u := f.client.endpoint("/cgi-bin/media/get", url.Values{"access_token": {tok}, "media_id": {a.MediaID}})
		var err error
		name, size, err = f.get(ctx, "media/get", u.String(), func(resp *http.Response) (int64, error) {
			if isJSONAnswer(resp) {
				var res util.CommonError
				data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
				if err == nil {
					err = json.Unmarshal(data, &res)
				}
				switch {
				case err != nil:
					return 0, fmt.Errorf("wecom media/get: answer is not JSON: %w", err)
				case res.ErrCode != 0:
					return 0, &APIError{API: "media/get", Code: int(res.ErrCode), Message: redact(res.ErrMsg)}
				}
				return 0, errors.New("wecom media/get: a JSON answer without the file")
			}
			return copyAtMost(w, resp.Body, limit)
		}, limit)
		return err
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == 40007 { // invalid media_id: expired, or never this app's
		return "", 0, errFileGone
	}
	if name == "" {
		name = a.Name
	}
	return name, size, err
}

// download fetches an AI bot's file from its link and decrypts it.
func (f *inFiles) download(ctx context.Context, route models.Route, a attachment, w io.Writer, limit int64) (string, int64, error) {
	key := f.aibotKey
	if a.AESKey != "" {
		var err error
		if key, err = wxcrypt.FileKey(a.AESKey); err != nil {
			return "", 0, errFileGone
		}
	}
	if key == nil {
		return "", 0, fmt.Errorf("bot: a file from %s without a key to decrypt it", route)
	}
	name, size, err := f.get(ctx, "aibot/file", a.URL, func(resp *http.Response) (int64, error) {
		// The ciphertext is the file and at most one padding block more.
		body := &counter{r: io.LimitReader(resp.Body, limit+33)}
		n, err := wxcrypt.DecryptFile(&capped{w: w, left: limit + 1}, body, key)
		switch {
		case body.n > limit+32:
			return limit + 1, nil
		case errors.Is(err, wxcrypt.ErrCiphertext):
			return 0, errFileGone
		}
		return n, err
	}, limit+32)
	if name == "" {
		name = a.Name
	}
	return name, size, err
}

// get GETs u and hands a 200 answer to read, which returns the size; a
// Content-Length over limit returns that size without reading. An HTTP error
// status of 403, 404 or 410 means the file is gone.
func (f *inFiles) get(ctx context.Context, api, u string, read func(*http.Response) (int64, error), limit int64) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, fmt.Errorf("wecom %s: %w", api, redactErr(err))
	}
	resp, err := f.http.Do(req)
	if err != nil {
		f.client.calls.WithLabelValues(api, "network").Inc()
		return "", 0, fmt.Errorf("wecom %s: %w", api, redactErr(stripURL(err)))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		f.client.calls.WithLabelValues(api, outcome(&StatusError{Status: resp.StatusCode})).Inc()
		return "", 0, errFileGone
	default:
		err := &StatusError{API: api, Status: resp.StatusCode}
		f.client.calls.WithLabelValues(api, outcome(err)).Inc()
		return "", 0, err
	}
	name := fileName(resp.Header.Get("Content-Disposition"))
	if resp.ContentLength > limit && !isJSONAnswer(resp) {
		f.client.calls.WithLabelValues(api, "0").Inc()
		return name, resp.ContentLength, nil
	}
	size, err := read(resp)
	f.client.calls.WithLabelValues(api, outcome(err)).Inc()
	return name, size, err
}

// stripURL drops the URL from a transport error: an AI bot's download link
// is a credential of its own.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: "(download link)", Err: ue.Err}
	}
	return err
}

// isJSONAnswer reports whether an answer is WeCom's JSON (an error) rather than a file.
func isJSONAnswer(resp *http.Response) bool {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return ct == "application/json" || ct == "text/plain"
}

// fileName reads the file name of a Content-Disposition header, in its
// RFC 5987 form (filename*, UTF-8 and percent-encoded) or its plain one,
// without a path.
func fileName(disposition string) string {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return ""
	}
	name := params["filename"]
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	name = strings.Trim(name, `"' `)
	if name == "" {
		return ""
	}
	return path.Base(strings.ReplaceAll(name, `\`, "/"))
}

// copyAtMost copies r to w until r ends or limit+1 bytes are written.
func copyAtMost(w io.Writer, r io.Reader, limit int64) (int64, error) {
	return io.Copy(w, io.LimitReader(r, limit+1))
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// capped writes at most left bytes to w and drops the rest, saying all was written.
type capped struct {
	w    io.Writer
	left int64
}

func (c *capped) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return len(p), nil
	}
	q := p
	if int64(len(q)) > c.left {
		q = q[:c.left]
	}
	n, err := c.w.Write(q)
	c.left -= int64(n)
	if err != nil {
		return n, err
	}
	return len(p), nil
}
