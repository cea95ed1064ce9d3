//! A real PostgreSQL server for a test: `initdb` into a temporary directory and `pg_ctl start`
//! on 127.0.0.1 with a free port (Debian's `postgresql` package, installed by
//! scripts/test.sh). PostgreSQL refuses to run as root, so under root the server runs as the
//! `postgres` user the package creates. Stopped when dropped.

use std::path::PathBuf;
use std::process::Command;

/// A running server.
pub(crate) struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("no /usr/lib/postgresql/*/bin/pg_ctl")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// Initialises and starts a server; panics with the server log if it cannot.
    pub(crate) fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("sprawl-pg-")
            .tempdir()
            .unwrap();
        let root = is_root();
        if root {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success());
        }
        let port = free_port();
        let pg = Postgres { dir, bin, port };
        let data = pg.dir.path().join("data");
        let st = pg
            .run("initdb")
            .args(["-A", "trust", "-U", "sprawl", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let log = pg.dir.path().join("server.log");
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off -c max_connections=40",
            pg.dir.path().display()
        );
        let st = pg
            .run("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(&log)
            .arg("start")
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "pg_ctl start: {}\n{}",
            String::from_utf8_lossy(&st.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        pg
    }

    fn run(&self, tool: &str) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        }
    }

    /// A URL for a new database `name` on this server (created here).
    pub(crate) fn database(&self, name: &str) -> String {
        let st = self
            .run("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "sprawl",
                name,
            ])
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        format!("postgres://sprawl@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs the SQL of `file` (a `pg_dump`) in database `name` with psql, fed on stdin.
    pub(crate) fn load(&self, name: &str, file: &std::path::Path) {
        let sql = std::fs::File::open(file).unwrap();
        let st = self
            .run("psql")
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["-U", "sprawl", "-d", name])
            .stdin(sql)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .run("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .output();
    }
}
