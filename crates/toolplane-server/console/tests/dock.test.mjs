// The AI dock: ask it to delete a task, the approval card, approve, the answer
// and the expert; the conversation survives a reload; stop cancels a run.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, callTool, assert } from './support.mjs';

let b;
before(async () => { b = await start(); await signIn(b.page); });
after(async () => { await b?.browser.close(); });

test('delete a task through the dock: approval card, approve, answer and expert', async () => {
  const { page } = b;
  // The scripted expert deletes task 1: make sure it exists.
  const existing = await callTool('getTask', { taskId: 1 });
  if (existing.body.output?.status !== 200) {
    const made = await callTool('createTask', { title: 'Task for the dock', project: 'dock' });
    assert.equal(made.body.output.status, 201, JSON.stringify(made.body));
  }
  const dock = page.getByRole('complementary', { name: 'AI dock' });
  await dock.getByText('scripted experts').waitFor();
  await dock.getByLabel('Ask the dock').focus();
  await page.keyboard.type('Please delete task 1');
  await page.keyboard.press('Enter');

  const card = dock.getByRole('region', { name: 'Approval for deleteTask' });
  await card.waitFor();
  await card.getByText('"taskId": 1').waitFor();
  await screenshot(page, 'dock-approval');
  await assertAccessible(page, 'the dock with an approval card');
  const approve = card.getByRole('button', { name: 'Approve' });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Approve', 'the approval takes focus');
  await page.keyboard.press('Enter');

  const turn = dock.locator('.turn').last();
  await turn.locator('.answer').filter({ hasText: 'The tools answered' }).waitFor();
  await turn.getByText(/Answered by scripted-(fast|careful)/).waitFor();
  await turn.locator('.tool-card .badge.ok').first().waitFor();
  const result = await turn.locator('.tool-card pre').last().textContent();
  assert.equal(JSON.parse(result).status, 204, result);
  await turn.getByText(/\d+ in · \d+ out tokens/).waitFor();
  // The router's decision: candidates and scores.
  await turn.getByText('Why this expert').click();
  await turn.getByText(/candidates: /).first().waitFor();
  assert.equal(await approve.count(), 0);
  await screenshot(page, 'dock-answer');

  // The task is gone.
  const after = await callTool('getTask', { taskId: 1 });
  assert.equal(after.body.output.status, 404);

  // The conversation is the server's: a reload shows it again.
  await page.reload();
  const again = page.getByRole('complementary', { name: 'AI dock' }).locator('.turn').last();
  await again.getByText('Please delete task 1').waitFor();
  await again.locator('.answer').filter({ hasText: 'The tools answered' }).waitFor();
  await again.getByText(/Answered by scripted-(fast|careful)/).waitFor();
});

test('an answer streams in, and Stop cancels a run upstream', async () => {
  const { page } = b;
  const dock = page.getByRole('complementary', { name: 'AI dock' });
  await dock.getByLabel('Model or route').selectOption('scripted-careful');
  await dock.getByLabel('Ask the dock').focus();
  // The careful expert echoes word by word (25 ms each): long enough to stop.
  const words = Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ');
  await page.keyboard.insertText(`echo ${words}`);
  await page.keyboard.press('Enter');
  const turn = dock.locator('.turn').last();
  await turn.locator('.answer').filter({ hasText: 'You said' }).waitFor();
  await dock.getByRole('button', { name: 'Stop' }).click();
  await turn.getByText(/Run cancelled|Stopped: cancelled/).waitFor();
  const text = await turn.locator('.answer').textContent();
  assert.ok(!text.includes('w399'), 'the answer stopped before its end');
  await dock.getByLabel('Model or route').selectOption('auto');
});
