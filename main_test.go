package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// writeConfig writes a config file for a test with SQLite in a temp folder and
// the extra YAML lines; env overrides switch a test to MariaDB.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	text := fmt.Sprintf("database: {driver: sqlite, dsn: %q}\n%s", filepath.Join(dir, "yz.db"), extra)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// eachDatabase runs f on SQLite and on MariaDB (when YANZHEN_TEST_MYSQL_DSN is
// set), with a config file and the environment that selects the database.
func eachDatabase(t *testing.T, f func(t *testing.T, cfg string, environ []string)) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			var environ []string
			if driver == models.DriverMySQL {
				environ = []string{"YANZHEN_DATABASE_DRIVER=mysql", "YANZHEN_DATABASE_DSN=" + storetest.MySQLDSN(t)}
			}
			f(t, writeConfig(t, ""), environ)
		})
	}
}

func runCLI(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &cli{stdout: &out, stderr: &errb, environ: environ})
	return code, out.String(), errb.String()
}

func TestImportOrgTwiceGivesTheSameRows(t *testing.T) {
	eachDatabase(t, func(t *testing.T, cfg string, environ []string) {
		if code, _, stderr := runCLI(t, environ, "migrate", "-c", cfg); code != exitOK {
			t.Fatalf("migrate: %d %s", code, stderr)
		}
		code, stdout, stderr := runCLI(t, environ, "import", "org", "orgimport/testdata/org.yaml", "-c", cfg)
		if code != exitFail || strings.TrimSpace(stdout) != "新增 7, 更新 0, 跳过 6" {
			t.Errorf("first import: code %d, stdout %q", code, stdout)
		}
		if !strings.Contains(stderr, "members 第 11 行：部门 nowhere 不存在") {
			t.Errorf("bad row not named: %q", stderr)
		}
		_, stdout, _ = runCLI(t, environ, "import", "org", "orgimport/testdata/org.yaml", "-c", cfg)
		if strings.TrimSpace(stdout) != "新增 0, 更新 0, 跳过 13" {
			t.Errorf("second import: %q", stdout)
		}
	})
}

func TestImportOrgHonoursTheFileLimit(t *testing.T) {
	cfg := writeConfig(t, "import: {max_file_size: 1MB}\n")
	big := filepath.Join(t.TempDir(), "org.xlsx")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, nil, "import", "org", big, "-c", cfg)
	if code != exitFail || strings.TrimSpace(stderr) != "yanzhen: 文件超过 1 MB 上限，请拆分后分批导入" {
		t.Errorf("org file over the limit: %d %q", code, stderr)
	}
}

func TestBadInvocationsAreOneLine(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "-c", "/nonexistent/yz.yaml"}, "config: file /nonexistent/yz.yaml not found"},
		{[]string{"migrate"}, "yanzhen: config: -c FILE is required"},
		{[]string{"frobnicate"}, `yanzhen: unknown command "frobnicate"; run ` + "`yanzhen help`"},
		{[]string{"import", "org", "-c", "x.yaml"}, "yanzhen: usage: yanzhen import org FILE -c FILE"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, nil, c.args...)
		if code != exitUsage || strings.TrimSpace(stderr) != c.want {
			t.Errorf("%v: code %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
	broken := writeConfig(t, "wecom: {robot: {token: t, aes_key: short}}\n")
	code, _, stderr := runCLI(t, nil, "migrate", "-c", broken)
	if code != exitUsage || strings.TrimSpace(stderr) != "config: wecom.robot.aes_key must be 43 characters" {
		t.Errorf("broken config: %d %q", code, stderr)
	}
}

func TestServeAnswersHealthzAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "yanzhen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cfg := writeConfig(t, fmt.Sprintf("http: {listen: %q}\nwecom: {secret: super-secret-value}\n", addr))
	cmd := exec.Command(bin, "serve", "-c", cfg)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("healthz never answered: %v\n%s", err, logs.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("healthz = %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("metrics lack go_goroutines")
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve still running 10 s after SIGTERM")
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if strings.Contains(logs.String(), "super-secret-value") {
		t.Error("the corp secret appeared in the logs")
	}
	if !strings.Contains(logs.String(), `"msg":"yanzhen serving"`) {
		t.Errorf("serve logs are not JSON: %s", logs.String())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
