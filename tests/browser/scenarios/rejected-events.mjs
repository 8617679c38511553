// An Okta delivery with one event that could not be read: the Runs page says
// that events were refused, and shows which and why; the good event of the
// same delivery ran. `t.data`: { flow, reason_part }.

export default async function (t) {
  const page = await t.page({ hash: '#/runs' });
  await t.sees(page, 'One Okta event was refused since the daemon started');
  const notice = page.locator('.rejected');
  await notice.getByText('Show it').click();
  await t.sees(page, t.data.reason_part, notice);
  // The delivery's good event started its run.
  await t.sees(page, t.data.flow, page.locator('table.runs'));
  await t.shot(page, 'runs-with-refused-event');

  // Readable on a phone too.
  const phone = await t.page({ width: 390, height: 844, hash: '#/runs' });
  await t.sees(phone, 'One Okta event was refused');
  await t.shot(phone, 'runs-with-refused-event-390px');
}
