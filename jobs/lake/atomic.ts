import fs from 'node:fs';

/** Makes a directory's entries (a new or renamed file in it) durable. */
export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes a new file (never an existing one) and fsyncs it. */
export function writeFileDurably(file: string, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'wx');
  try {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
