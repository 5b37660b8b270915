/**
 * Picking what to add: files or a folder chosen with the browser's dialog, or dropped. Each
 * dropped or chosen top-level item becomes one list of files with their paths inside it.
 */
import { useState } from 'preact/hooks'

/** A file picked in the browser with its path inside what was dropped. */
export interface Picked {
  file: File
  path: string
}

export function AddZone({ onPick }: { onPick: (items: Picked[][]) => void }) {
  const [over, setOver] = useState(false)
  const fromInput = (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])]
    input.value = ''
    const folders = new Map<string, Picked[]>()
    const singles: Picked[][] = []
    for (const file of files) {
      const rel = file.webkitRelativePath
      if (rel === '') singles.push([{ file, path: file.name }])
      else {
        const top = rel.split('/')[0] ?? rel
        folders.set(top, [...(folders.get(top) ?? []), { file, path: rel }])
      }
    }
    onPick([...singles, ...folders.values()])
  }
  return (
    <section
      class={`dropzone${over ? ' over' : ''}`}
      aria-label="Drop files or folders to add"
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault()
        setOver(true)
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault()
        setOver(false)
        const entries = [...(e.dataTransfer?.items ?? [])]
          .map((i) => i.webkitGetAsEntry())
          .filter((x): x is FileSystemEntry => x !== null)
        void Promise.all(entries.map((entry) => walk(entry, ''))).then(onPick)
      }}
    >
      <p>Drop files or folders here, or</p>
      <div class="row">
        <label class="button">
          Choose files
          <input type="file" multiple hidden data-testid="add-files" onChange={(e) => fromInput(e.currentTarget)} />
        </label>
        <label class="button">
          Choose a folder
          <input
            type="file"
            hidden
            data-testid="add-folder"
            // Chromium, Firefox and Safari all take this non-standard attribute.
            {...{ webkitdirectory: '' }}
            onChange={(e) => fromInput(e.currentTarget)}
          />
        </label>
      </div>
    </section>
  )
}

/** Every file under a dropped entry, with its path from the dropped item's name. */
async function walk(entry: FileSystemEntry, prefix: string): Promise<Picked[]> {
  const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
    return [{ file, path }]
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  const children: FileSystemEntry[] = []
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
    if (batch.length === 0) break
    children.push(...batch)
  }
  return (await Promise.all(children.map((c) => walk(c, path)))).flat()
}
