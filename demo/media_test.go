package demo

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
)

// TestImagesAndFilesBecomeMediaOfThePage sends an inline image and an
// uploaded file through the fake WeCom: the page's events carry them, the
// upload itself shows nothing, and /demo/media serves the image to show and
// the file to save under its name.
func TestImagesAndFilesBecomeMediaOfThePage(t *testing.T) {
	r := newRig(t)
	key := r.cfg.WeCom.Robot.WebhookKey.Reveal()
	hook := r.cfg.WeCom.APIBase + "/cgi-bin/webhook/send?key=" + key
	img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 64)...)
	sum := md5.Sum(img)
	r.sendJSON(hook, map[string]any{"msgtype": "image", "image": map[string]string{"base64": base64.StdEncoding.EncodeToString(img), "md5": hex.EncodeToString(sum[:])}})

	workbook := []byte("PK\x03\x04 a ledger")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("media", "高新区调度台账_2026年11月.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(workbook)
	w.Close()
	resp, err := http.Post(r.cfg.WeCom.APIBase+"/cgi-bin/webhook/upload_media?key="+key+"&type=file", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		MediaID string `json:"media_id"`
	}
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	r.sendJSON(hook, map[string]any{"msgtype": "file", "file": map[string]string{"media_id": up.MediaID}})

	_, evs, _ := r.events(t, "", 2)
	image, file := evs[0].Media, evs[1].Media
	if image == nil || image.Type != "image" || image.Size != len(img) || file == nil || file.Type != "file" || file.Name != "高新区调度台账_2026年11月.xlsx" {
		t.Fatalf("events %+v %+v", evs[0], evs[1])
	}
	for _, c := range []struct {
		m           *Media
		data        []byte
		contentType string
		disposition string
	}{
		{image, img, "image/png", ""},
		{file, workbook, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			`attachment; filename="file.xlsx"; filename*=UTF-8''` + url.PathEscape(file.Name)},
	} {
		resp, err := http.Get(r.url + c.m.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, c.data) || resp.Header.Get("Content-Type") != c.contentType || resp.Header.Get("Content-Disposition") != c.disposition {
			t.Errorf("%s: %d bytes, %q, %q", c.m.URL, len(got), resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
	}
	if resp, err := http.Get(r.url + "/demo/media/999"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown attachment: %v %v", err, resp)
	}
}
