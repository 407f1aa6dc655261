package bot

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"yanzhen/models"
)

// WeCom's limits on images and files.
const (
	// robotImageLimit is the largest image a robot sends inline (base64 +
	// md5); a larger one goes as a file.
	robotImageLimit = 2 << 20
	// appImageLimit is the largest image media/upload takes.
	appImageLimit = 10 << 20
	// fileLimit is the largest file either upload takes, fileMin the smallest.
	fileLimit = 20 << 20
	fileMin   = 5
	// mediaTTL is how long an uploaded media_id may be sent; a cached one is
	// dropped mediaMargin before.
	mediaTTL    = 3 * 24 * time.Hour
	mediaMargin = time.Hour
)

// mediaIDPrefix starts the KV keys of the cached media_ids.
const mediaIDPrefix = "wecom/media/"

// mediaStore holds the payloads of image and file rows and the media_ids
// they were uploaded as (in the KV table, shared by the replicas).
type mediaStore interface {
	MediaData(ctx context.Context, hash string) ([]byte, error)
	GetKV(ctx context.Context, key string) (*models.KV, error)
	PutKV(ctx context.Context, key, value string, expiresAt *time.Time) error
	DeleteKV(ctx context.Context, key, value string) (bool, error)
}

// sendMedia sends an image or file row: a robot's image inline, anything
// else uploaded first (once per uploader, payload and type, while WeCom keeps
// the media_id) and sent by media_id.
func (s *wecomSender) sendMedia(ctx context.Context, t target, m *models.OutboxMessage) error {
	data, err := s.media.MediaData(ctx, m.Media)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return unsendable("the payload of the %s is gone", m.Kind)
	}
	if err != nil {
		return err
	}
	switch {
	case t.Kind == targetWebhook && m.Kind == kindImage:
		sum := md5.Sum(data)
		img := &inlineImage{Base64: base64.StdEncoding.EncodeToString(data), MD5: hex.EncodeToString(sum[:])}
		return s.client.webhook(ctx, t.Key, &robotMessage{ChatID: t.ChatID, MsgType: "image", Image: img})
	case t.Kind == targetWebhook && m.Kind == kindFile:
		up := uploader{id: "robot-" + keyID(t.Key), path: "/cgi-bin/webhook/upload_media", key: t.Key}
		return s.withMediaID(ctx, up, "file", m, data, func(id string) error {
			return s.client.webhook(ctx, t.Key, &robotMessage{ChatID: t.ChatID, MsgType: "file", File: &mediaRef{MediaID: id}})
		})
	case t.Kind == targetApp && (m.Kind == kindImage || m.Kind == kindFile):
		up := uploader{id: "app-" + s.client.corpID + "-" + strconv.FormatInt(s.client.agentID, 10), path: "/cgi-bin/media/upload", app: true}
		return s.withMediaID(ctx, up, m.Kind, m, data, func(id string) error {
			am := &appMessage{MsgType: m.Kind}
			if m.Kind == kindImage {
				am.Image = &mediaRef{MediaID: id}
			} else {
				am.File = &mediaRef{MediaID: id}
			}
			return s.appMessage(ctx, t, m, am)
		})
	}
	return unsendable("%s message through %s", m.Kind, t.Kind)
}

// uploader is where media is uploaded: a robot's webhook/upload_media (by
// its key) or the app's media/upload (by access token). id names it in the
// cache without its credential.
type uploader struct {
	id   string
	path string
	key  string // a robot's webhook key
	app  bool
}

// withMediaID calls send with the media_id of data as type typ for up: the
// cached one while it is valid, else a fresh upload, cached for the other
// rows and replicas. A cached media_id WeCom refuses (40007, expired early)
// is dropped and the file uploaded again, once.
func (s *wecomSender) withMediaID(ctx context.Context, up uploader, typ string, m *models.OutboxMessage, data []byte, send func(id string) error) error {
	key := mediaIDPrefix + up.id + "/" + typ + "/" + m.Media
	kv, err := s.media.GetKV(ctx, key)
	switch {
	case err == nil && kv.ExpiresAt != nil && s.now().Before(*kv.ExpiresAt):
		err := send(kv.Value)
		if !invalidMedia(err) {
			return err
		}
		if _, err := s.media.DeleteKV(ctx, key, kv.Value); err != nil {
			return fmt.Errorf("drop media_id: %w", err)
		}
	case err != nil && models.ErrorCode(err) != models.ENOTFOUND:
		return fmt.Errorf("media_id cache: %w", err)
	}
	id, err := s.client.upload(ctx, up, typ, m.Body, data)
	if err != nil {
		return err
	}
	expires := s.now().Add(mediaTTL - mediaMargin)
	if err := s.media.PutKV(ctx, key, id, &expires); err != nil {
		return fmt.Errorf("media_id cache: %w", err)
	}
	return send(id)
}

// invalidMedia reports whether err says a media_id is unknown or expired.
func invalidMedia(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == 40007
}

// upload sends data as media of type typ named name to up and returns the
// media_id.
func (c *client) upload(ctx context.Context, up uploader, typ, name string, data []byte) (string, error) {
	var res uploadAnswer
	body := &formFile{name: name, data: data}
	api := strings.TrimPrefix(up.path, "/cgi-bin/")
	do := func(q url.Values) error {
		q.Set("type", typ)
		res = uploadAnswer{}
		return c.call(ctx, api, c.endpoint(up.path, q), body, &res, &res.CommonError)
	}
	var err error
	if up.app {
		err = c.withToken(ctx, func(tok string) error { return do(url.Values{"access_token": {tok}}) })
	} else {
		err = do(url.Values{"key": {up.key}})
	}
	if err != nil {
		return "", err
	}
	if res.MediaID == "" {
		return "", fmt.Errorf("wecom %s: answer has no media_id", api)
	}
	return res.MediaID, nil
}

// uploadAnswer is the answer of an upload.
type uploadAnswer struct {
	util.CommonError
	Type    string `json:"type"`
	MediaID string `json:"media_id"`
}

// formFile is an upload's body: the file as the form part "media", with its
// name and length, as WeCom's upload endpoints take it.
type formFile struct {
	name string
	data []byte
}

func (f *formFile) encode() (io.Reader, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="media"; filename="%s"; filelength=%d`, escapeQuotes(f.name), len(f.data)))
	h.Set("Content-Type", "application/octet-stream")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(f.data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

// escapeQuotes escapes a file name for a Content-Disposition parameter.
func escapeQuotes(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(s)
}

// inlineImage is a robot's image message: the image itself, and its md5.
type inlineImage struct {
	Base64 string `json:"base64"`
	MD5    string `json:"md5"`
}

// mediaRef names uploaded media in a file or app image message.
type mediaRef struct {
	MediaID string `json:"media_id"`
}
