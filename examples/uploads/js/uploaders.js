// LiveSocket `uploaders` (Phoenix's external uploaders), shipped as the client hook
// `LiveSocket.uploaders`. `Direct` stands for an uploader to an object store: it reads each
// file, "sends" it to the entry's presigned key and reports progress; a real one would
// PUT entry.file to entry.meta.url. The bytes never reach the host.
{
  Direct: function (entries, onViewError) {
    entries.forEach((entry) => {
      let cancelled = false
      onViewError(() => { cancelled = true })
      entry.file.arrayBuffer().then((buffer) => {
        if (cancelled) return
        if (buffer.byteLength !== entry.meta.max_bytes) return entry.error("size_mismatch")
        window.LivewasmDirectUploads = (window.LivewasmDirectUploads || [])
        window.LivewasmDirectUploads.push({key: entry.meta.key, bytes: buffer.byteLength})
        entry.progress(50)
        entry.progress(100)
      })
    })
  },
}
