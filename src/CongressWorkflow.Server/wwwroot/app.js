async function loadStoreStatus() {
  const response = await fetch('/api/store/status');
  const status = await response.json();
  document.getElementById('streams').textContent = status.streams.toLocaleString('en-US');
  document.getElementById('events').textContent = status.events.toLocaleString('en-US');
  document.getElementById('head').textContent = status.headPosition.toLocaleString('en-US');
  document.getElementById('schema').textContent = status.schemaVersion;
  document.getElementById('database').textContent = status.database.mode === 'embedded'
    ? `embedded, ${status.database.dataDirectory} (port ${status.database.port})`
    : 'configured connection';
}
loadStoreStatus();
