//! Where an archive goes: a folder (`kanect export`) or a zip (the account download). The
//! archive names each file by a relative path it made itself (`files/<id>/<safe name>`).

use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Files written one after another: `start`, any number of `write`s, `finish`.
pub trait Sink {
    /// Begins the file at `path`; `compress` for text (images and PDFs are already).
    fn start(&mut self, path: &str, compress: bool) -> io::Result<()>;
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()>;
}

/// A folder that was empty or absent.
pub struct DirSink {
    dir: PathBuf,
    open: Option<io::BufWriter<File>>,
}

impl DirSink {
    /// Creates `dir`, or takes it if it exists and is empty; anything in it is refused,
    /// so an export never mixes with or overwrites other files.
    pub fn create(dir: &Path) -> Result<DirSink, String> {
        let shown = dir.display();
        match std::fs::read_dir(dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(format!(
                        "{shown} is not empty: export into a new or empty folder"
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => private_dirs()
                .create(dir)
                .map_err(|e| format!("cannot create {shown}: {e}"))?,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                return Err(format!("{shown} is a file, not a folder"));
            }
            Err(e) => return Err(format!("cannot read {shown}: {e}")),
        }
        Ok(DirSink {
            dir: dir.to_path_buf(),
            open: None,
        })
    }
}

/// Folders only their owner can enter, as the database's own: an export holds every
/// conversation and email address of the team.
fn private_dirs() -> std::fs::DirBuilder {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
}

impl Sink for DirSink {
    fn start(&mut self, path: &str, _compress: bool) -> io::Result<()> {
        let path = self.dir.join(path);
        if let Some(parent) = path.parent() {
            private_dirs().create(parent)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        self.open = Some(io::BufWriter::new(options.open(path)?));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.open {
            Some(file) => file.write_all(bytes),
            None => Err(io::Error::other("no file started")),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        match self.open.take() {
            Some(file) => file.into_inner().map_err(|e| e.into_error())?.sync_all(),
            None => Ok(()),
        }
    }
}

/// A zip archive being written to `W` (a temporary file for a download).
pub struct ZipSink<W: Write + Seek> {
    zip: ZipWriter<W>,
}

impl<W: Write + Seek> ZipSink<W> {
    pub fn new(to: W) -> Self {
        ZipSink {
            zip: ZipWriter::new(to),
        }
    }

    /// Writes the zip's directory and hands back what it was written to.
    pub fn close(self) -> io::Result<W> {
        self.zip.finish().map_err(io::Error::other)
    }
}

impl<W: Write + Seek> Sink for ZipSink<W> {
    fn start(&mut self, path: &str, compress: bool) -> io::Result<()> {
        let method = if compress {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            // Past 4 GiB a file needs ZIP64; the download's size limit is far below.
            .large_file(false)
            .unix_permissions(0o644);
        self.zip.start_file(path, options).map_err(io::Error::other)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.zip.write_all(bytes)
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}
