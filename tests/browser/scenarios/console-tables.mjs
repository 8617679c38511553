// A table as an admin keeps it (issue: the console as the daily tool; the
// seed's "Tables tab for storing data"): the grid of rows with a column per
// field, pages, finding rows by any text, sorting, a row corrected in its
// form, one added and one deleted, rows found in one column, the table exported and imported as CSV (a
// bad file changes nothing), and cleared with a confirmation. At 1440×900,
// then at 390×844.
//
// `t.data`: { table, rows } (the test filled `rows` rows, keys u000…).

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/tables' });
  const listed = page.locator('tr').filter({ has: page.getByRole('link', { name: t.data.table, exact: true }) });
  await listed.waitFor();
  t.assert.match(await listed.innerText(), new RegExp(`${t.data.rows}\\s+[\\d.]+ KB`));
  await page.getByRole('link', { name: t.data.table, exact: true }).click();

  const grid = page.locator('table.rows-grid');
  await grid.waitFor();
  await t.sees(page, `${t.data.rows} rows,`);
  const heads = await grid.locator('thead th').allTextContents();
  t.assert.deepEqual(heads.map((x) => x.trim()), ['Key', 'login', 'name', 'department', 'groups']);
  t.assert.equal(await grid.locator('tbody tr').count(), 50);
  // Lists read as lists.
  t.assert.equal((await grid.locator('tbody tr').first().locator('td').nth(3).innerText()).trim(), 'Everyone, Engineering');
  await page.getByRole('button', { name: 'Next page' }).click();
  await grid.locator('tbody tr').first().getByText('u050').waitFor();
  await page.getByRole('button', { name: 'Previous page' }).click();
  await grid.locator('tbody tr').first().getByText('u000').waitFor();
  await t.shot(page, 'grid');

  // Find by any text; sort by a column.
  await page.locator('#row-find').fill('ADA');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.rows-grid tbody tr').length === 3);
  // In one column: "user11" is in the login of ten rows, and in no name.
  await page.locator('#row-find').fill('user11');
  await page.locator('#row-find-in').selectOption('login');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.rows-grid tbody tr').length === 10);
  await page.locator('#row-find-in').selectOption('name');
  await page.getByRole('button', { name: 'Find' }).click();
  await t.sees(page, 'No row matches');
  await page.locator('#row-find-in').selectOption('');
  await page.locator('#row-find').fill('');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.rows-grid tbody tr').length === 50);
  // Sorting orders the whole table, a page at a time.
  await grid.getByRole('button', { name: 'login' }).click();
  await grid.getByRole('button', { name: 'login ▲' }).click();
  await grid.locator('thead th[aria-sort="descending"]').waitFor();
  await page.waitForFunction(() => document.querySelector('table.rows-grid tbody tr td')?.textContent.trim() === 'user119@acme.example');
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.waitForFunction(() => document.querySelector('table.rows-grid tbody tr td')?.textContent.trim() === 'user069@acme.example');
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.waitForFunction(() => document.querySelector('table.rows-grid tbody tr td')?.textContent.trim() === 'user119@acme.example');
  t.assert.equal(await page.getByRole('button', { name: 'Previous page' }).count(), 0, 'the first page has no previous one');
  await grid.getByRole('button', { name: 'Key', exact: true }).click();
  await grid.locator('tbody tr').first().getByText('u000').waitFor();

  // Correct a row in its form.
  await grid.getByRole('button', { name: 'u007', exact: true }).click();
  const editor = page.locator('dialog.row-editor');
  await editor.locator('#row-key').waitFor();
  const dept = editor.locator('.row-field').filter({ has: page.locator('input.map-key[value="department"]') }).locator('textarea');
  await dept.fill('Finance');
  await editor.getByRole('button', { name: 'Save the row' }).click();
  await t.sees(page, 'Saved row u007.');
  await grid.locator('tr').filter({ hasText: 'u007' }).getByText('Finance').waitFor();

  // Add a row: a text field and a JSON field.
  await page.getByRole('button', { name: 'Add a row' }).click();
  await editor.locator('#row-key').fill('new-hire');
  await editor.locator('#row-f0').fill('login');
  await editor.locator('#row-v0').fill('new.hire@acme.example');
  await editor.getByRole('button', { name: 'Add a field' }).click();
  await editor.locator('#row-f1').fill('reminders');
  await editor.locator('#row-v1').fill('3');
  await editor.locator('#row-j1').check();
  await editor.getByRole('button', { name: 'Save the row' }).click();
  await t.sees(page, 'Saved row new-hire.');
  await t.sees(page, `${t.data.rows + 1} rows,`);

  // Delete one, confirming.
  await page.locator('#row-find').fill('new-hire');
  await page.getByRole('button', { name: 'Find' }).click();
  await grid.getByRole('button', { name: 'new-hire', exact: true }).click();
  await editor.getByRole('button', { name: 'Delete the row' }).click();
  await page.locator('#confirm-yes').click();
  await t.sees(page, 'Deleted row new-hire.');
  await t.sees(page, `${t.data.rows} rows,`);

  // Export: the file a spreadsheet opens.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const { readFileSync } = await import('node:fs');
  const csv = readFileSync(await download.path(), 'utf8');
  t.assert.equal(csv.split('\n')[0], 'key,login,name,department,groups');
  t.assert.equal(csv.trim().split('\n').length, t.data.rows + 1);
  t.assert.ok(csv.includes('u007,user007@acme.example,User 7,Finance,'), 'the corrected row is exported');

  // Import: a good file lands; a bad one changes nothing and says where.
  await page.locator('#csv-file').setInputFiles({ name: 'more.csv', mimeType: 'text/csv', buffer: Buffer.from('key,login\nx1,x1@acme.example\nx2,x2@acme.example\n') });
  await t.sees(page, 'Imported more.csv: 2 added, 0 changed, 0 unchanged, 0 deleted.');
  await t.sees(page, `${t.data.rows + 2} rows,`);
  await page.locator('#csv-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('key,login\ny1,ok\n,missing key\n') });
  await t.sees(page, 'Nothing imported:');
  t.allowProblem(/status of 422/);
  await t.sees(page, 'line 3');
  await t.sees(page, `${t.data.rows + 2} rows,`);

  // On a phone: the grid scrolls in its box; the page stays the screen's width.
  const phone = await t.page({ width: 390, height: 844, hash: `#/tables/${encodeURIComponent(t.data.table)}` });
  await phone.locator('table.rows-grid').waitFor();
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the table page is ${content}px wide on a ${screen}px screen`);
  await t.shot(phone, 'phone');

  // Clear it, confirming.
  await page.locator('#row-find').fill('');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('button', { name: 'Clear the table…' }).click();
  await page.locator('#confirm-yes').click();
  await t.sees(page, `Cleared ${t.data.table}: ${t.data.rows + 2} rows deleted.`);
  await t.sees(page, 'This table is empty');
  await t.sees(page, '0 rows,');
}
