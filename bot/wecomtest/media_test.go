package wecomtest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// uploadAnswer posts data as the multipart form part "media" named name
// and returns WeCom's answer.
func uploadAnswer(t *testing.T, url, name string, data []byte) map[string]any {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="media"; filename="%s"; filelength=%d`, name, len(data)))
	h.Set("Content-Type", "application/octet-stream")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	resp, err := http.Post(url, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// uploadID uploads and returns the media_id, failing on an errcode.
func uploadID(t *testing.T, url, name string, data []byte) string {
	t.Helper()
	m := uploadAnswer(t, url, name, data)
	wantErrcode(t, m, 0)
	id, _ := m["media_id"].(string)
	if id == "" {
		t.Fatalf("no media_id in %v", m)
	}
	return id
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)

func TestUploadsKeepTheirLimits(t *testing.T) {
	s, clock := start(t, WithWebhookKeys("k1", "k2"))
	robot := func(key, typ string) string {
		return s.URL() + "/cgi-bin/webhook/upload_media?key=" + key + "&type=" + typ
	}
	tok := getToken(t, s)
	app := func(typ string) string { return s.URL() + "/cgi-bin/media/upload?access_token=" + tok + "&type=" + typ }
	for _, c := range []struct {
		what string
		url  string
		data []byte
		want int
	}{
		{"a robot file", robot("k1", "file"), []byte("hello"), 0},
		{"a file of 4 bytes", robot("k1", "file"), []byte("tiny"), 40006},
		{"a file of 20 MB", robot("k1", "file"), bytes.Repeat([]byte{1}, MediaMax), 0},
		{"a file over 20 MB", robot("k1", "file"), bytes.Repeat([]byte{1}, MediaMax+1), 40006},
		{"an image through the robot", robot("k1", "image"), png, 40004},
		{"an unknown robot", robot("gone", "file"), []byte("hello"), 93000},
		{"an app image", app("image"), png, 0},
		{"an app image that is not a picture", app("image"), []byte("hello world"), 40005},
		{"an app image over 10 MB", app("image"), append(png, bytes.Repeat([]byte{1}, ImageMax)...), 40009},
		{"an app file", app("file"), []byte("PK workbook"), 0},
		{"an app upload without a token", s.URL() + "/cgi-bin/media/upload?type=file", []byte("hello"), 41001},
	} {
		if got := errcode(uploadAnswer(t, c.url, "周报.xlsx", c.data)); got != c.want {
			t.Errorf("%s: errcode %d, want %d", c.what, got, c.want)
		}
	}
	ups := 0
	for _, r := range s.Requests() {
		if r.Route == RouteUpload || r.Route == RouteMediaUpload {
			ups++
			if r.Delivered() || r.Body != nil {
				t.Errorf("an upload counts as a delivered message or keeps its body: %+v", r.Route)
			}
		}
	}
	if ups != 11 {
		t.Errorf("%d uploads recorded", ups)
	}

	// A robot sends the file it uploaded, not another robot's, for 3 days.
	id := uploadID(t, robot("k1", "file"), "台账.xlsx", []byte("PK ledger"))
	file := map[string]any{"msgtype": "file", "file": map[string]any{"media_id": id}}
	wantErrcode(t, call(t, "POST", s.WebhookURL("k2"), file), 40007)
	wantErrcode(t, call(t, "POST", s.WebhookURL("k1")+"&chatid=wrQu", file), 0)
	got := s.Messages()
	if m := got[len(got)-1].Media; m == nil || m.Name != "台账.xlsx" || string(m.Data) != "PK ledger" || m.Type != "file" {
		t.Errorf("the file message shows %+v", m)
	}
	// The app cannot send the robot's file, nor an image as a file.
	appFile := map[string]any{"touser": "zhangsan", "agentid": DefaultAgentID, "msgtype": "file", "file": map[string]any{"media_id": id}}
	wantErrcode(t, call(t, "POST", s.URL()+"/cgi-bin/message/send?access_token="+tok, appFile), 40007)
	img := uploadID(t, app("image"), "排名.png", png)
	appFile["file"] = map[string]any{"media_id": img}
	wantErrcode(t, call(t, "POST", s.URL()+"/cgi-bin/message/send?access_token="+tok, appFile), 40007)
	appImage := map[string]any{"touser": "zhangsan", "agentid": DefaultAgentID, "msgtype": "image", "image": map[string]any{"media_id": img}}
	wantErrcode(t, call(t, "POST", s.URL()+"/cgi-bin/message/send?access_token="+tok, appImage), 0)

	clock.Advance(MediaTTL)
	wantErrcode(t, call(t, "POST", s.WebhookURL("k1"), file), 40007)
	if s.Media(id) == nil {
		t.Error("an expired media_id is forgotten instead of refused")
	}
}

func TestInlineImagesAreChecked(t *testing.T) {
	s, _ := start(t)
	hook := s.WebhookURL(DefaultWebhookKey)
	image := func(data []byte, sum string) map[string]any {
		if sum == "" {
			h := md5.Sum(data)
			sum = hex.EncodeToString(h[:])
		}
		return map[string]any{"msgtype": "image", "image": map[string]any{"base64": base64.StdEncoding.EncodeToString(data), "md5": sum}}
	}
	wantErrcode(t, call(t, "POST", hook, image(png, "")), 0)
	if m := s.Messages()[0].Media; m == nil || !bytes.Equal(m.Data, png) || m.Type != "image" {
		t.Errorf("the image message shows %+v", m)
	}
	wantErrcode(t, call(t, "POST", hook, image(png, strings.Repeat("0", 32))), 40058)
	wantErrcode(t, call(t, "POST", hook, image([]byte("GIF89a not allowed"), "")), 40005)
	wantErrcode(t, call(t, "POST", hook, image(append(png, make([]byte, InlineImageMax)...), "")), 40009)
}
