/**
 * design.md §2 as rules: dependencies point inward (http → features → adapters), the sandbox shares
 * only the wire types with the client, and `messages` never imports `tickets`.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Cycles make load order and ownership unclear.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'features-do-not-import-http',
      severity: 'error',
      comment: 'tickets/providers/messages hold the use cases; HTTP is a thin skin over them.',
      from: { path: '^src/(tickets|providers|messages)/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'adapters-do-not-import-features',
      severity: 'error',
      comment: 'whatsapp, db and media are I/O adapters: they know no feature and no HTTP.',
      from: { path: '^src/(whatsapp|db|media)/' },
      to: { path: '^src/(tickets|providers|messages|http|sandbox|app\\.ts|main\\.ts)' },
    },
    {
      name: 'messages-do-not-import-tickets',
      severity: 'error',
      comment: 'What a ticket does on a status or reply is a callback app.ts hands to messages.',
      from: { path: '^src/messages/' },
      to: { path: '^src/tickets/' },
    },
    {
      name: 'sandbox-shares-only-wire-types',
      severity: 'error',
      comment: 'The emulator must not borrow the client it is meant to check.',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/', pathNot: ['^src/sandbox/', '^src/whatsapp/wire-types\\.ts$'] },
    },
    {
      name: 'shared-stays-generic',
      severity: 'error',
      comment: 'shared/ holds tiny generic helpers with no business words.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'config-stays-leaf',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: ['^src/config/', '^src/shared/'] },
    },
    {
      name: 'only-entry-points-import-the-composition-root',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/main\\.ts$', '^src/cli/'] },
      to: { path: '^src/(app|main)\\.ts$' },
    },
    {
      name: 'web-imports-only-the-api-contract',
      severity: 'error',
      comment: 'The React app talks to the server over HTTP; it may share only the API contract types.',
      from: { path: '^web/' },
      to: { path: '^(src|test|bench)/', pathNot: '^src/http/contract/' },
    },
    {
      name: 'src-does-not-import-web',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'auth-stays-a-feature',
      severity: 'error',
      comment: 'Users and sessions know the database, not HTTP.',
      from: { path: '^src/auth/' },
      to: { path: '^src/(http|tickets|providers|messages|sandbox|app\\.ts|main\\.ts)' },
    },
    {
      name: 'prom-client-only-in-metrics',
      severity: 'error',
      comment:
        'Modules report through small interfaces (MessageMetrics, HttpMetrics); src/metrics implements them.',
      from: { path: '^src/', pathNot: '^src/metrics/' },
      to: { path: 'node_modules/prom-client' },
    },
    {
      name: 'metrics-stay-an-adapter',
      severity: 'error',
      comment: 'src/metrics implements the reporting interfaces; it knows no HTTP, tickets or providers.',
      from: { path: '^src/metrics/' },
      to: { path: '^src/(http|tickets|providers|sandbox|app\\.ts|main\\.ts)' },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js'],
    },
  },
};
