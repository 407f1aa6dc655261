package wecomtest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Media limits, as WeCom documents them for webhook/upload_media and
// media/upload.
const (
	// MediaTTL is how long a media_id can be sent after its upload.
	MediaTTL = 3 * 24 * time.Hour
	// MediaMin is the smallest upload, MediaMax the largest (a file);
	// ImageMax bounds an uploaded image and VoiceMax a voice.
	MediaMin = 5
	MediaMax = 20 << 20
	ImageMax = 10 << 20
	VoiceMax = 2 << 20
	// InlineImageMax bounds the image a robot sends inline (base64 + md5).
	InlineImageMax = 2 << 20
)

// maxUpload bounds the body of an upload read by the fake: more than
// MediaMax, so that a file just too large is read and refused with WeCom's
// errcode rather than cut.
const maxUpload = MediaMax + 4<<20

// Media is an uploaded media file, or the image a robot message carried
// inline, as a reader of the chat would see it.
type Media struct {
	ID   string // the media_id; "" for an inline image
	Type string // image, file, voice or video
	Name string // the file name of the upload; "" for an inline image
	Data []byte
	// Uploaded is when it was uploaded, on the fake clock.
	Uploaded time.Time

	uploader string // the robot key (robot:KEY) or the app (app) that may send it
}

// uploadTypes are the media types each uploader takes, with their size limits.
var uploadTypes = map[string]map[string]int{
	"robot": {"file": MediaMax, "voice": VoiceMax},
	"app":   {"image": ImageMax, "voice": VoiceMax, "video": ImageMax, "file": MediaMax},
}

// webhookUpload serves POST /cgi-bin/webhook/upload_media?key=&type=: a file
// for the robot's file (or voice) message, usable by that robot only.
func (s *Server) webhookUpload(req *Request, q url.Values, _ *payload, _ error) answer {
	if !s.keys[req.Key] {
		return failure(93000, "invalid webhook url")
	}
	return s.uploadLocked(req, q, "robot", "robot:"+req.Key)
}

// mediaUpload serves POST /cgi-bin/media/upload?access_token=&type=: media
// for the app's messages.
func (s *Server) mediaUpload(req *Request, q url.Values, _ *payload, _ error) answer {
	if a, ok := s.checkTokenLocked(q, req.Time); !ok {
		return a
	}
	return s.uploadLocked(req, q, "app", "app")
}

// uploadLocked reads the multipart upload of req and stores it for
// uploader, within the limits of kind (robot or app).
func (s *Server) uploadLocked(req *Request, q url.Values, kind, uploader string) answer {
	up := req.upload
	req.upload = nil
	typ := q.Get("type")
	max, ok := uploadTypes[kind][typ]
	if !ok {
		return failure(40004, "invalid media type")
	}
	name, data, err := readUpload(up.contentType, up.body)
	switch {
	case errors.Is(err, errNoMedia):
		return failure(44001, "empty media data")
	case err != nil:
		return failure(40058, "invalid multipart body: "+err.Error()+". invalid Request Parameter")
	case len(data) < MediaMin || len(data) > max:
		if typ == "image" {
			return failure(40009, "invalid image size")
		}
		return failure(40006, "invalid file size")
	case typ == "image" && !isPicture(data):
		return failure(40005, "invalid file type: images are JPG or PNG")
	}
	m := &Media{ID: "3" + randomHex(31), Type: typ, Name: name, Data: data, Uploaded: req.Time, uploader: uploader}
	s.media[m.ID] = m
	req.Media = m
	return success(map[string]any{"type": typ, "media_id": m.ID, "created_at": strconv.FormatInt(req.Time.Unix(), 10)})
}

// upload is the body of an upload request and its content type.
type upload struct {
	contentType string
	body        []byte
}

var errNoMedia = errors.New("no media part")

// readUpload returns the file name and bytes of the form part "media" of a
// multipart/form-data body.
func readUpload(contentType string, body []byte) (string, []byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", nil, errors.New("not multipart/form-data")
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, errNoMedia
		}
		if err != nil {
			return "", nil, err
		}
		if part.FormName() != "media" {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return "", nil, err
		}
		if len(data) == 0 {
			return "", nil, errNoMedia
		}
		return part.FileName(), data, nil
	}
}

// isPicture reports whether data starts as a PNG or a JPEG does.
func isPicture(data []byte) bool {
	return bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF})
}

// checkMediaLocked validates the media of an image, file, voice or video
// message sent by uploader (robot:KEY or app) and records it in req.Media:
// an inline image must be a JPG or PNG of at most InlineImageMax whose md5
// matches; a media_id must be one uploader uploaded, of the message's type,
// less than MediaTTL ago.
func (s *Server) checkMediaLocked(req *Request, p *payload, uploader string) answer {
	var id, typ string
	switch p.MsgType {
	case "image":
		if p.Image.Base64 != "" {
			data, err := base64.StdEncoding.DecodeString(p.Image.Base64)
			sum := md5.Sum(data)
			switch {
			case err != nil || !strings.EqualFold(hex.EncodeToString(sum[:]), p.Image.MD5):
				return failure(40058, "invalid image base64 or md5. invalid Request Parameter")
			case len(data) > InlineImageMax:
				return failure(40009, "invalid image size")
			case !isPicture(data):
				return failure(40005, "invalid file type: images are JPG or PNG")
			}
			req.Media = &Media{Type: "image", Data: data, Uploaded: req.Time}
			return success(nil)
		}
		id, typ = p.Image.MediaID, "image"
	case "file":
		id, typ = mediaID(p.File), "file"
	case "voice":
		id, typ = mediaID(p.Voice), "voice"
	case "video":
		id, typ = mediaID(p.Video), "video"
	default:
		return success(nil)
	}
	m := s.media[id]
	if m == nil || m.uploader != uploader || m.Type != typ || !req.Time.Before(m.Uploaded.Add(MediaTTL)) {
		return failure(40007, "invalid media_id")
	}
	req.Media = m
	return success(nil)
}

// Media returns the media uploaded with id, or nil.
func (s *Server) Media(id string) *Media {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.media[id]
}
