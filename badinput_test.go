package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"yanzhen/models"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// envChild makes the test binary the yanzhen command: TestMain runs main
// with the binary's arguments, so that a test can measure a command in a
// process of its own.
const envChild = "YANZHEN_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		// As main does, and then the peak resident memory of this process
		// (VmHWM; the rusage of a child started by vfork counts its parent's
		// memory too) to file descriptor 3.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], &cli{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()})
		stop()
		if status, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					_, _ = os.NewFile(3, "hwm").WriteString(strings.TrimSpace(v))
				}
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// runChild runs the command in a process of its own and returns its exit
// status, output and peak resident memory in bytes.
func runChild(t *testing.T, args ...string) (code int, stdout, stderr string, maxRSS int64) {
	t.Helper()
	hwmR, hwmW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer hwmR.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envChild+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = &out, &errb, []*os.File{hwmW}
	err = cmd.Run()
	_ = hwmW.Close()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	hwm, err := io.ReadAll(hwmR)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(string(hwm), " kB"), 10, 64)
	if err != nil {
		t.Fatalf("peak memory of the child: %q", hwm)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String(), kb << 10
}

const (
	badHead = "工单编号,受理时间,承办单位,标题\n"
	// maxImportRSS is the most memory any import may take, whatever the input.
	maxImportRSS = 300 << 20
)

func goodRow(n int) string { return fmt.Sprintf("G%06d,2026-11-20 09:00,住建局,标题%d\n", n, n) }

// writeTestFile writes a file through a function of a buffered writer.
func writeTestFile(t *testing.T, path string, write func(w *bufio.Writer)) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	write(w)
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
}

// repeat writes s to w until n bytes are written.
func repeat(w io.Writer, s string, n int) {
	chunk := strings.Repeat(s, max(1, (64<<10)/len(s)))
	for ; n > 0; n -= len(chunk) {
		_, _ = io.WriteString(w, chunk[:min(n, len(chunk))])
	}
}

// bombXLSX writes a workbook whose worksheet has a cell of cell bytes
// between good rows, and a styles part that claims to unpack to 4 GB.
func bombXLSX(t *testing.T, path string, cell int) {
	writeTestFile(t, path, func(bw *bufio.Writer) {
		zw := zip.NewWriter(bw)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
		part := func(name, body string) io.Writer {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(w, body)
			return w
		}
		part("_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
		part("xl/workbook.xml", `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="工单" sheetId="1" r:id="r1"/></sheets></workbook>`)
		part("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
		row := func(r int, cells ...string) string {
			s := fmt.Sprintf(`<row r="%d">`, r)
			for _, c := range cells {
				s += `<c t="inlineStr"><is><t>` + c + `</t></is></c>`
			}
			return s + "</row>"
		}
		w := part("xl/worksheets/sheet1.xml", `<worksheet><sheetData>`+row(1, "工单编号", "受理时间", "承办单位", "标题")+row(2, "G000001", "2026-11-20 09:00", "住建局", "好")+
			`<row r="3"><c t="inlineStr"><is><t>G000002</t></is></c><c t="inlineStr"><is><t>2026-11-20 09:00</t></is></c><c t="inlineStr"><is><t>住建局</t></is></c><c t="inlineStr"><is><t>`)
		repeat(w, "炸", cell)
		_, _ = io.WriteString(w, `</t></is></c></row>`+row(4, "G000003", "2026-11-20 09:00", "住建局", "好")+`</sheetData></worksheet>`)
		raw, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/styles.xml", Method: zip.Store, UncompressedSize64: 4 << 30, CompressedSize64: 4})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(raw, "bomb")
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBadInputStaysBounded imports each file of the bad-input set in a
// process of its own and checks that it ends with a clear Chinese message and
// status 1, that the good rows land, and that the process never held more
// than 300 MB; it prints each peak.
func TestBadInputStaysBounded(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		file    func(t *testing.T) string
		landed  int
		message string
	}{
		{"50 MB cell", func(t *testing.T) string {
			path := filepath.Join(dir, "cell.csv")
			writeTestFile(t, path, func(w *bufio.Writer) {
				w.WriteString(badHead + goodRow(1) + "G000002,2026-11-20 09:00,住建局,\"")
				repeat(w, "长", 50<<20)
				w.WriteString("\"\n" + goodRow(3))
			})
			return path
		}, 2, "第 3 行 标题：单元格超过 1 MB：本行未导入"},
		{"1,000,000 columns", func(t *testing.T) string {
			path := filepath.Join(dir, "columns.csv")
			writeTestFile(t, path, func(w *bufio.Writer) {
				w.WriteString(badHead + goodRow(1) + "G000002,2026-11-20 09:00,住建局,x")
				repeat(w, ",x", 2_000_000)
				w.WriteString("\n" + goodRow(3))
			})
			return path
		}, 2, "第 3 行：超过 1000 列：本行未导入"},
		{"endless line", func(t *testing.T) string {
			// A pipe that never ends, so that only the file limit can stop it.
			path := filepath.Join(dir, "endless.csv")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			go func() {
				f, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				defer f.Close()
				if _, err := io.WriteString(f, badHead+goodRow(1)+"G000002,2026-11-20 09:00,住建局,"); err != nil {
					return
				}
				chunk := bytes.Repeat([]byte("a"), 64<<10)
				for {
					if _, err := f.Write(chunk); err != nil {
						return // the reader has gone
					}
				}
			}()
			return path
		}, 1, "文件超过 200 MB 上限，请拆分后分批导入"},
		{"/dev/zero", func(t *testing.T) string { return "/dev/zero" }, 0, "文件不是文本格式的 csv（含有二进制内容）"},
		{"zip bomb xlsx", func(t *testing.T) string {
			path := filepath.Join(dir, "bomb.xlsx")
			bombXLSX(t, path, 600<<20)
			return path
		}, 2, "第 3 行 标题：单元格超过 1 MB：本行未导入"},
		{"truncated xlsx", func(t *testing.T) string {
			var buf bytes.Buffer
			err := tickets.Generate(&buf, tickets.GenOptions{N: 500, Departments: []string{"住建局"}, Now: time.Now(), Seed: 1, Format: sheet.XLSX})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "truncated.xlsx")
			writeFile(t, path, string(buf.Bytes()[:buf.Len()*2/3]))
			return path
		}, 0, "无法读取 xlsx 文件：文件已损坏、不完整（如下载中断）或不是 Excel 工作簿"},
		{"GBK with mixed line endings", func(t *testing.T) string {
			text := badHead + strings.TrimSuffix(goodRow(1), "\n") + "\r\n" + strings.TrimSuffix(goodRow(2), "\n") + "\r" +
				"G000003,2026-11-20 09:00,住建局,\"未闭合\n" + goodRow(4) + strings.TrimSuffix(goodRow(5), "\n") + "\r"
			gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "gbk.csv")
			writeFile(t, path, gbk)
			return path
		}, 4, "第 4 行：引号未闭合：本行未导入"},
	}
	// The floor: the same command on a clean file of three rows.
	floorCfg := orgConfig(t)
	clean := filepath.Join(dir, "clean.csv")
	writeFile(t, clean, badHead+goodRow(1)+goodRow(2)+goodRow(3))
	code, stdout, stderr, floor := runChild(t, "import", "tickets", clean, "-c", floorCfg)
	if code != exitOK {
		t.Fatalf("clean file: %d %q %q", code, stdout, stderr)
	}
	t.Logf("floor (a clean 3-row csv): peak RSS %.0f MB", float64(floor)/(1<<20))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := orgConfig(t)
			start := time.Now()
			code, stdout, stderr, rss := runChild(t, "import", "tickets", c.file(t), "-c", cfg)
			t.Logf("%s: peak RSS %.0f MB (floor %.0f MB) in %v; exit %d; %s", c.name, float64(rss)/(1<<20), float64(floor)/(1<<20),
				time.Since(start).Round(10*time.Millisecond), code, firstLine(stderr))
			if code != exitFail || !strings.Contains(stderr, c.message) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, c.message)
			}
			if rss > maxImportRSS {
				t.Errorf("peak RSS %d MB, over %d MB", rss>>20, maxImportRSS>>20)
			}
			if n := storedTickets(t, cfg); n != c.landed {
				t.Errorf("%d tickets stored, want the %d good rows", n, c.landed)
			}
		})
	}
}

// orgConfig returns the config of a new SQLite store holding the demo org.
func orgConfig(t *testing.T) string {
	t.Helper()
	cfg := writeConfig(t, "")
	if code, _, stderr := runCLI(t, nil, "import", "org", "demo/org.yaml", "-c", cfg); code != exitOK {
		t.Fatalf("import org: %d %s", code, stderr)
	}
	return cfg
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// storedTickets counts the tickets in the SQLite store of a test's config.
func storedTickets(t *testing.T, cfg string) int {
	t.Helper()
	s, err := models.Open(context.Background(), models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(filepath.Dir(cfg), "yz.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int64
	if err := s.DB(context.Background()).Model(&models.Ticket{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}
