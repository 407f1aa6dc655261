package demo

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	"yanzhen/bot/wecomtest"
)

// mediaKept is how many images and files a demo process keeps for the page.
const mediaKept = 200

// Media is the image or file a message shows, as the page fetches it.
type Media struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	Type string `json:"type"` // image or file
	Size int    `json:"size"`
}

// mediaShelf keeps the latest images and files the fake WeCom showed, by a
// number of the demo's own.
type mediaShelf struct {
	mu    sync.Mutex
	next  int
	items map[int]*wecomtest.Media
}

func newMediaShelf() *mediaShelf { return &mediaShelf{next: 1, items: map[int]*wecomtest.Media{}} }

// keep stores m and returns how the page finds it.
func (s *mediaShelf) keep(m *wecomtest.Media) *Media {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next
	s.next++
	s.items[id] = m
	delete(s.items, id-mediaKept)
	typ := "file"
	if m.Type == "image" {
		typ = "image"
	}
	return &Media{URL: "/demo/media/" + strconv.Itoa(id), Name: m.Name, Type: typ, Size: len(m.Data)}
}

// fileTypes are the media types of the files the bot sends, whatever the
// system's own table says.
var fileTypes = map[string]string{
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".csv":  "text/csv; charset=utf-8",
	".pdf":  "application/pdf",
}

// serve answers GET /demo/media/{id}: an image to show, or a file to save
// under its name.
func (s *mediaShelf) serve(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	m := s.items[id]
	s.mu.Unlock()
	if m == nil {
		writeError(w, http.StatusNotFound, "附件已过期")
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if m.Type == "image" {
		h.Set("Content-Type", http.DetectContentType(m.Data))
	} else {
		ct := fileTypes[strings.ToLower(path.Ext(m.Name))]
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="file%s"; filename*=UTF-8''%s`, path.Ext(m.Name), url.PathEscape(m.Name)))
	}
	h.Set("Content-Length", strconv.Itoa(len(m.Data)))
	_, _ = w.Write(m.Data)
}
