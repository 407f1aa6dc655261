package tickets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// WatchSettle is how long a file of the watched folder must be left
// unmodified before it is imported, so that one still being copied onto the
// share waits for the next round.
const WatchSettle = time.Minute

// FolderFile is what ImportFolder did with one file: its summary, or why it
// could not be imported.
type FolderFile struct {
	Name    string
	Summary *Summary
	Err     error
}

// ImportFolder imports the new exports of dir (tickets.watch_dir): each
// .xlsx and .csv file directly in it, not hidden nor an office lock file
// (~$…), left unmodified for WatchSettle before now, whose key (WatchKey: its
// name, size and modification time) no import recorded. Files are taken
// oldest first. Each is imported once, recorded as coming from the watched
// folder, and tell, when set, is told its outcome; a file that cannot be read
// is recorded and told like any, and not tried again until it changes. The
// file is left where it is: its record marks it done. ImportFolder returns
// what it did, file by file, and an error only when dir cannot be listed or
// the system fails; a file whose import the system interrupted is tried
// again by the next call.
func (s *Service) ImportFolder(ctx context.Context, dir string, now time.Time, tell *msg.Audience) ([]FolderFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tickets: watched folder: %w", err)
	}
	type candidate struct {
		name, key string
		mod       time.Time
	}
	var found []candidate
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !watched(name) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < WatchSettle {
			continue // gone meanwhile, or still being written
		}
		found = append(found, candidate{name: name, key: WatchKey(name, info.Size(), info.ModTime()), mod: info.ModTime()})
	}
	keys := make([]string, len(found))
	for i, c := range found {
		keys[i] = c.key
	}
	done, err := s.Store.ImportedKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(found, func(a, b candidate) int { return cmp.Or(a.mod.Compare(b.mod), cmp.Compare(a.name, b.name)) })
	var out []FolderFile
	for _, c := range found {
		if done[c.key] {
			continue
		}
		o := Origin{Route: models.ImportWatch, Actor: "watch", Name: c.name, Key: c.key, Tell: tell}
		sum, err := s.record(ctx, o, func() (*Summary, error) {
			f, err := os.Open(filepath.Join(dir, c.name))
			if err != nil {
				return nil, models.Errorf(models.EINVALID, "无法读取该文件：%s", pathError(err))
			}
			defer f.Close()
			return s.importFile(ctx, f, c.name, o.Actor)
		})
		switch {
		case err == nil:
		case models.ErrorCode(err) == models.ECONFLICT:
			continue // another replica took it meanwhile
		case models.ErrorCode(err) == models.EINTERNAL:
			return out, err
		}
		out = append(out, FolderFile{Name: c.name, Summary: sum, Err: err})
	}
	return out, nil
}

// watched reports whether a file of the watched folder is an export to import.
func watched(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".csv":
		return true
	}
	return false
}

// pathError says why a file could not be opened, without its path.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
