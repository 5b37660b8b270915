// The CLI as a user meets it: separate processes, exit codes from the registry, one-line errors.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import type { Command } from 'commander'
import { buildProgram } from '../src/cli/program.ts'
import { SERVICE_COMMANDS } from '../src/cli/service-commands.ts'
import { ERRORS } from '../src/core/error-registry.ts'
import { SERVICES } from '../src/node/registry.ts'
import { runCli } from '../src/testing/testnet.ts'

const execFileP = promisify(execFile)

describe('lateral CLI', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lateral-cli-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('every command and subcommand has --help with examples', async () => {
    const program = buildProgram()
    const paths: string[][] = []
    const walk = (cmd: Command, path: string[]) => {
      for (const sub of cmd.commands) {
        paths.push([...path, sub.name()])
        walk(sub, [...path, sub.name()])
      }
    }
    walk(program, [])
    assert.ok(paths.length >= 18, `${paths.length} commands`)
    await Promise.all(
      paths.map(async (path) => {
        const { code, stdout } = await runCli([...path, '--help'])
        assert.equal(code, 0, path.join(' '))
        assert.match(stdout, /Examples:\n {2}\$ (echo .* \| )?lateral/, `${path.join(' ')} --help shows examples`)
      }),
    )
  })

  it("registers the services' commands in the registry's order, without loading the services", async () => {
    // program.ts walks SERVICE_COMMANDS instead of the registry, so their orders must agree.
    assert.deepEqual(
      Object.keys(SERVICE_COMMANDS),
      SERVICES.map((s) => s.name),
    )
    // Building the program loads no service: a command that only calls the daemon would
    // otherwise wait ~0.8 s for every service's modules. Checked in a fresh process that records
    // every module it resolves.
    const script = `
      import { registerHooks } from 'node:module'
      const seen = []
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
      const { buildProgram } = await import(${JSON.stringify(new URL('../src/cli/program.ts', import.meta.url).href)})
      buildProgram()
      process.stdout.write(JSON.stringify(seen))`
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script])
    const loaded = JSON.parse(stdout) as string[]
    assert.ok(
      loaded.some((u) => u.endsWith('/src/cli/service-commands.ts')),
      'the hook saw the CLI load',
    )
    for (const heavy of ['/src/node/registry.ts', '/src/node/config.ts', '/src/content/service.ts']) {
      assert.ok(!loaded.some((u) => u.endsWith(heavy)), `${heavy} is not loaded to build the program`)
    }
  })

  it('says how to start a daemon when none runs (exit 3)', async () => {
    for (const args of [
      ['id'],
      ['status'],
      ['peers'],
      ['ping', '12D3KooWGzh5Q4rLjMYW1CPmydXYMJYDgZNZFaBgyw9SdGgrGqAz'],
    ]) {
      const { code, stderr, stdout } = await runCli([...args, '--home', join(root, 'nothing')])
      assert.equal(code, ERRORS.DaemonNotRunningError?.exit, args.join(' '))
      assert.match(stderr, /start it with `lateral daemon`/)
      assert.equal(stderr.trim().split('\n').length, 1, 'one line, no stack trace')
      assert.equal(stdout, '')
    }
    const json = await runCli(['status', '--json', '--home', join(root, 'nothing')])
    assert.equal(JSON.parse(json.stderr).error.code, 'LAT_ERR_DAEMON_NOT_RUNNING')
  })

  it('init refuses to overwrite a key (exit 6) and needs a passphrase source', async () => {
    const home = join(root, 'init')
    const first = await runCli(['init', '--home', home, '--json'], { env: { LATERAL_PASSPHRASE: 'pw' } })
    assert.equal(first.code, 0, first.stderr)
    assert.match(JSON.parse(first.stdout).peerId, /^12D3KooW/)
    const keyBefore = await readFile(join(home, 'keystore', 'device.key'))
    const second = await runCli(['init', '--home', home], { env: { LATERAL_PASSPHRASE: 'other' } })
    assert.equal(second.code, ERRORS.KeystoreExistsError?.exit)
    assert.match(second.stderr, /never overwritten/)
    assert.deepEqual(await readFile(join(home, 'keystore', 'device.key')), keyBefore)

    const noSource = await runCli(['init', '--home', join(root, 'nopass')], { env: { LATERAL_PASSPHRASE: undefined } })
    assert.equal(noSource.code, ERRORS.PassphraseRequiredError?.exit)
    assert.match(noSource.stderr, /LATERAL_PASSPHRASE/)

    const bare = await runCli(['init', '--home', join(root, 'bare'), '--no-passphrase'], {
      env: { LATERAL_PASSPHRASE: undefined },
    })
    assert.equal(bare.code, 0)
    assert.match(bare.stderr, /warning: the device key is stored without a passphrase/)
  })

  it('daemon: wrong passphrase is exit 4, a damaged keystore exit 5, both one line', async () => {
    const home = join(root, 'locked')
    assert.equal((await runCli(['init', '--home', home], { env: { LATERAL_PASSPHRASE: 'right' } })).code, 0)
    const args = ['daemon', '--home', home, '--api', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']
    const wrong = await runCli(args, { env: { LATERAL_PASSPHRASE: 'wrong' } })
    assert.equal(wrong.code, ERRORS.WrongPassphraseError?.exit)
    assert.equal(wrong.stderr.trim(), 'lateral: wrong passphrase: the keystore could not be decrypted')

    const path = join(home, 'keystore', 'device.key')
    const bytes = await readFile(path)
    await writeFile(path, bytes.subarray(0, 50))
    const truncated = await runCli(args, { env: { LATERAL_PASSPHRASE: 'right' } })
    assert.equal(truncated.code, ERRORS.KeystoreCorruptError?.exit)
    assert.match(
      truncated.stderr,
      /^lateral: the keystore file is 50 bytes, expected \d+: it is truncated or damaged\n$/,
    )
    assert.equal((await readFile(path)).length, 50, 'the damaged file is left as it is')
  })

  it('bad config.json is a clear error', async () => {
    const home = join(root, 'badconfig')
    assert.equal((await runCli(['init', '--home', home, '--no-passphrase'])).code, 0)
    await writeFile(join(home, 'config.json'), '{"listen": ["/ip4/127.0.0.1/tcp/0"], "mdsn": false}')
    const res = await runCli(['daemon', '--home', home, '--api', '127.0.0.1:0'])
    assert.equal(res.code, ERRORS.ConfigError?.exit)
    assert.match(res.stderr, /unknown setting "mdsn"/)
  })

  it('a listen address that is not on this machine is a clear error (exit 6)', async () => {
    const home = join(root, 'badlisten')
    assert.equal((await runCli(['init', '--home', home, '--no-passphrase'])).code, 0)
    // 192.0.2.1 (TEST-NET-1) is never a local address: binding fails, no packet is sent.
    const res = await runCli([
      'daemon',
      '--home',
      home,
      '--api',
      '127.0.0.1:0',
      '--no-mdns',
      '--listen',
      '/ip4/192.0.2.1/tcp/0',
    ])
    assert.equal(res.code, ERRORS.AddressInUseError?.exit)
    assert.match(res.stderr, /^lateral: cannot listen on \/ip4\/192\.0\.2\.1\/tcp\/0: .*EADDRNOTAVAIL/m)
  })

  it('unknown commands and bad options are usage errors (exit 2)', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2)
    assert.equal((await runCli(['ping'])).code, 2)
  })
})
