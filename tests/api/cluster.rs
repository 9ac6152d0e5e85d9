//! A PostgreSQL cluster of a test's own, made with the machine's `initdb` and `pg_ctl` on a free
//! port, stopped and removed when dropped. For the drills the shared server must not undergo:
//! restores into a new cluster, restarts.

use std::path::PathBuf;
use std::process::{Command, Output};

use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

use crate::crash::free_port;

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

/// The directory of the machine's PostgreSQL programs: the one on PATH, or Debian's newest.
pub fn pg_bindir() -> PathBuf {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("pg_ctl").is_file() && dir.join("initdb").is_file() {
                // Debian links a few programs onto PATH: the others are beside the link's target.
                if let Some(bin) = std::fs::canonicalize(dir.join("pg_ctl"))
                    .ok()
                    .and_then(|p| p.parent().map(PathBuf::from))
                {
                    return bin;
                }
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .expect("PostgreSQL's programs (initdb, pg_ctl) are installed: ./dev test installs them")
}

fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// A new cluster, started. With `epoch`, its transaction ids begin at `epoch × 2³²`, as on a
    /// cluster with a long past.
    pub fn start(epoch: Option<u32>) -> Self {
        let bin = pg_bindir();
        let dir = std::env::temp_dir().join(format!("ops-cluster-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
        };
        if root() {
            // PostgreSQL refuses to run as root: its files belong to `postgres`.
            run(Command::new("chown").args(["postgres:", cluster.dir.to_str().unwrap()]));
        }
        let data = cluster.data();
        cluster.as_owner(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        );
        if let Some(epoch) = epoch {
            cluster.as_owner("pg_resetwal", &["-e", &epoch.to_string(), "-D", &data]);
        }
        cluster.start_server();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    /// Runs one of PostgreSQL's programs as the cluster's owner.
    pub fn as_owner(&self, program: &str, args: &[&str]) -> Output {
        run(&mut self.owner_command(program, args))
    }

    fn owner_command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        let mut command = if root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args);
        command
    }

    /// Runs a client program (pg_dump, pg_restore, psql) of the same installation.
    pub fn client(&self, program: &str, args: &[&str]) -> Output {
        run(Command::new(self.bin.join(program)).args(args))
    }

    /// Crashes the server (`pg_ctl stop -m immediate`: what was not yet written of the WAL is
    /// lost, as in a power cut of the database alone) and starts it again, which recovers.
    pub fn crash_and_restart(&self) {
        self.as_owner("pg_ctl", &["stop", "-D", &self.data(), "-m", "immediate"]);
        self.start_server();
    }

    fn start_server(&self) {
        let log = self.dir.join("postgres.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level=logical",
            self.port,
            self.dir.display()
        );
        self.as_owner(
            "pg_ctl",
            &[
                "start",
                "-D",
                &self.data(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "-o",
                &options,
            ],
        );
    }

    /// The cluster's superuser, on its `postgres` database.
    pub fn admin(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username("postgres")
            .database("postgres")
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .owner_command("pg_ctl", &["stop", "-D", &self.data(), "-m", "immediate"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
