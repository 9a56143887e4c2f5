using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;
using CongressWorkflow.Server;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace CongressWorkflow.Browser.Tests;

/// <summary>The demo server (projections caught up), and Debian's Chromium driven headless through chromedriver.</summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    private readonly DemoServerFixture _demo = new();

    public CongressServer Server => _demo.Server;

    public ChromeDriver Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _demo.InitializeAsync();
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1280,1400", $"--user-data-dir={Path.Combine(Path.GetTempPath(), "cw-chrome-" + Guid.NewGuid().ToString("N")[..8])}");
        Browser = new ChromeDriver(ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver"), options, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        Browser.Quit();
        Browser.Dispose();
        await _demo.DisposeAsync();
    }
}

public sealed class the_dashboard(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private IWebElement WaitFor(string loaded, int seconds = 30)
    {
        var wait = new WebDriverWait(fixture.Browser, TimeSpan.FromSeconds(seconds)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        return wait.Until(driver =>
        {
            var body = driver.FindElement(By.TagName("body"));
            return body.GetDomAttribute("data-loaded") == loaded ? body : null;
        });
    }

    /// <summary>Signs the browser tab in with a token (as a pasted token would, kept in the tab's session storage).</summary>
    private void SignInWithToken(string role, string organization)
    {
        fixture.Browser.Navigate().GoToUrl(fixture.Server.BaseAddress);
        fixture.Browser.ExecuteScript($"sessionStorage.setItem('congress-token', '{TestAuth.Token(role, organization)}'); localStorage.removeItem('congress-lang');");
    }

    private void Open(string organization, string asOf)
    {
        SignInWithToken("admin", DemoCampaign.Central);
        // The projections catch up in the background: reload until the subtree has arrived in the read model.
        var wait = new WebDriverWait(fixture.Browser, TimeSpan.FromSeconds(60))
        {
            PollingInterval = TimeSpan.FromMilliseconds(250),
            Message = "the dashboard did not show the subtree",
        };
        try
        {
            OpenUntilLoaded(wait, organization, asOf);
        }
        catch (WebDriverTimeoutException e)
        {
            throw new WebDriverTimeoutException($"{e.Message}; the page shows: {fixture.Browser.FindElement(By.TagName("body")).Text}", e);
        }
    }

    private void OpenUntilLoaded(WebDriverWait wait, string organization, string asOf) =>
        wait.Until(driver =>
        {
            driver.Navigate().GoToUrl($"{fixture.Server.BaseAddress}#campaign={DemoCampaign.CampaignId}&path={organization}&asOf={asOf}");
            driver.Navigate().Refresh();
            try
            {
                WaitFor($"{organization}@{asOf}", seconds: 5);
                return driver.FindElement(By.CssSelector("#projections")).Text.Contains("progress running, up to date", StringComparison.Ordinal);
            }
            catch (WebDriverTimeoutException)
            {
                return false;
            }
        });

    [Fact]
    public void a_bloc_committee_sees_progress_on_a_past_day_and_drills_down_to_who_is_behind()
    {
        Open(DemoCampaign.CentralBloc, "2020-05-15");
        var browser = fixture.Browser;

        Assert.Equal("Đảng bộ Khối các cơ quan Trung ương — tính đến 15/05/2020", browser.FindElement(By.Id("root-name")).Text);
        Assert.Equal("14 / 14 (100,00%)", browser.FindElement(By.CssSelector("#levels tr[data-level=branch] td.held")).Text);
        Assert.Equal("3 / 5 (60,00%)", browser.FindElement(By.CssSelector("#levels tr[data-level=grassroots] td.held")).Text);

        browser.FindElement(By.LinkText("Đảng bộ Bộ Công Thương")).Click();
        WaitFor($"{DemoCampaign.Ministry}@2020-05-15");
        var rows = browser.FindElements(By.CssSelector("#subordinates tbody tr"));
        Assert.Equal(5, rows.Count);
        Assert.StartsWith("Đảng bộ Công đoàn Công Thương Việt Nam", rows[0].Text, StringComparison.Ordinal);
        Assert.Contains("2 / 3 (66,67%)", rows[0].Text, StringComparison.Ordinal);
        Assert.Contains("Bộ Công Thương", browser.FindElement(By.Id("breadcrumb")).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void a_subtree_opens_in_place_by_keyboard_and_english_is_kept_across_a_reload()
    {
        Open(DemoCampaign.CentralBloc, "2020-05-15");
        var browser = fixture.Browser;
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(10));
        var ministry = browser.FindElement(By.CssSelector($"#subordinates tr[data-org={DemoCampaign.Ministry}]"));
        var expand = ministry.FindElement(By.CssSelector("button.expand"));

        expand.SendKeys(Keys.Enter);
        var below = wait.Until(driver => driver.FindElements(By.CssSelector("#subordinates tr[data-depth='1']")) is { Count: > 0 } rows ? rows : null);
        Assert.Equal(5, below.Count);
        Assert.Equal("true", expand.GetDomAttribute("aria-expanded"));
        Assert.Contains(below, r => r.Text.StartsWith("Đảng bộ Công đoàn Công Thương Việt Nam", StringComparison.Ordinal) && r.Text.Contains("2 / 3 (66,67%)", StringComparison.Ordinal));
        expand.SendKeys(Keys.Enter);
        wait.Until(driver => driver.FindElements(By.CssSelector("#subordinates tr[data-depth='1']")).Count == 0);

        new SelectElement(browser.FindElement(By.Id("lang"))).SelectByValue("en");
        wait.Until(driver => driver.FindElement(By.Id("root-name")).Text.EndsWith("— as of 15/05/2020", StringComparison.Ordinal));
        Assert.Equal("14 / 14 (100.00%)", browser.FindElement(By.CssSelector("#levels tr[data-level=branch] td.held")).Text);
        Assert.Equal("branch", browser.FindElement(By.CssSelector("#levels tr[data-level=branch] td")).Text);
        Assert.Equal("held", browser.FindElements(By.CssSelector("#levels th"))[1].Text);
        Assert.Equal("en", browser.FindElement(By.TagName("html")).GetDomAttribute("lang"));

        browser.Navigate().Refresh();
        WaitFor($"{DemoCampaign.CentralBloc}@2020-05-15");
        Assert.Equal("Đảng bộ Khối các cơ quan Trung ương — as of 15/05/2020", browser.FindElement(By.Id("root-name")).Text);
        Assert.Equal("direct subordinates", browser.FindElement(By.CssSelector("#subordinates")).FindElement(By.XPath("preceding-sibling::h2")).Text.Split(" (")[0]);

        new SelectElement(browser.FindElement(By.Id("lang"))).SelectByValue("vi");
        wait.Until(driver => driver.FindElement(By.Id("root-name")).Text.EndsWith("— tính đến 15/05/2020", StringComparison.Ordinal));
        Assert.Equal("Đã đại hội", browser.FindElements(By.CssSelector("#levels th"))[1].Text);
    }

    [Fact]
    public void changing_the_day_shows_the_ministry_cascade_finished_fourteen_days_early()
    {
        Open(DemoCampaign.Ministry, "2020-06-29");
        Assert.StartsWith("Đang tiến hành", fixture.Browser.FindElement(By.Id("completion")).Text, StringComparison.Ordinal);

        var day = fixture.Browser.FindElement(By.Id("as-of"));
        fixture.Browser.ExecuteScript("arguments[0].value = '2020-07-31'; arguments[0].dispatchEvent(new Event('change'));", day);
        WaitFor($"{DemoCampaign.Ministry}@2020-07-31");

        Assert.Equal("Hoàn thành 30/06/2020 · hạn 14/07/2020 · sớm 14 ngày", fixture.Browser.FindElement(By.Id("completion")).Text);
    }

    [Fact]
    public void as_shown_that_day_the_figures_hold_only_what_had_been_recorded_by_then()
    {
        // Thái Bình's last branch held its congress on 03/05/2020, entered on 12/05: on 10/05 twelve of twelve were held,
        // but the dashboard that day showed eleven, and that branch overdue.
        Open(DemoCampaign.ThaiBinh, "2020-05-10");
        Assert.Equal("12 / 12 (100,00%)", fixture.Browser.FindElement(By.CssSelector("#levels tr[data-level=branch] td.held")).Text);
        Assert.Equal("—", fixture.Browser.FindElement(By.CssSelector("#overdue tbody")).Text);

        var asShown = fixture.Browser.FindElement(By.Id("as-shown"));
        asShown.Click();
        WaitFor($"{DemoCampaign.ThaiBinh}@2020-05-10/as-shown");

        Assert.Contains("asShown=true", fixture.Browser.Url, StringComparison.Ordinal);
        Assert.Equal("11 / 12 (91,67%)", fixture.Browser.FindElement(By.CssSelector("#levels tr[data-level=branch] td.held")).Text);
        var overdue = fixture.Browser.FindElements(By.CssSelector("#overdue tbody tr"));
        Assert.StartsWith("Chi bộ Tổ chức cán bộ", Assert.Single(overdue).Text, StringComparison.Ordinal);
        asShown.Click();
        WaitFor($"{DemoCampaign.ThaiBinh}@2020-05-10");
    }

    [Fact]
    public void a_unit_typed_without_diacritics_is_found_and_opens_in_the_drill_down_by_keyboard()
    {
        Open(DemoCampaign.CentralBloc, "2020-05-15");

        var name = fixture.Browser.FindElement(By.Id("find-name"));
        name.SendKeys("trung tam thong tin" + Keys.Enter);
        var wait = new WebDriverWait(fixture.Browser, TimeSpan.FromSeconds(20));
        var result = wait.Until(driver => driver.FindElements(By.CssSelector("#find-results tbody tr a")).FirstOrDefault());
        Assert.StartsWith("1 đơn vị", fixture.Browser.FindElement(By.Id("find-count")).Text, StringComparison.Ordinal);
        Assert.Equal("Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại ★", result!.Text);

        // Tab to the result and press Enter: the drill-down opens on it, under the bloc and the Ministry.
        result.SendKeys(Keys.Enter);
        WaitFor("dang-bo-trung-tam-thong-tin-cntm@2020-05-15");
        Assert.Contains("Bộ Công Thương", fixture.Browser.FindElement(By.Id("breadcrumb")).Text, StringComparison.Ordinal);
        Assert.Contains("path=dang-bo-khoi-cac-co-quan-trung-uong%2Fdang-bo-bo-cong-thuong%2Fdang-bo-trung-tam-thong-tin-cntm", fixture.Browser.Url,
            StringComparison.Ordinal);
    }

    [Fact]
    public void the_deadlines_board_shows_the_postponed_pilot_chased_and_escalated_to_the_ministry()
    {
        Open(DemoCampaign.Ministry, "2020-04-23");
        var browser = fixture.Browser;

        var newDate = browser.FindElement(By.CssSelector("#deadlines tr[data-milestone=new-date-set]"));
        Assert.Contains("Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại", newDate.Text, StringComparison.Ordinal);
        Assert.Contains("quá 8 ngày", newDate.Text, StringComparison.Ordinal);

        // Delivery runs in the background: reload until the escalation shows as delivered to the Ministry's inbox.
        new WebDriverWait(browser, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(250) }.Until(driver =>
        {
            var escalation = driver.FindElements(By.CssSelector("#ledger tr[data-step=escalation]"))
                .FirstOrDefault(r => r.Text.Contains("Ấn định lại ngày đại hội", StringComparison.Ordinal));
            if (escalation?.Text.Contains("inbox: delivered", StringComparison.Ordinal) == true)
            {
                return true;
            }

            driver.Navigate().Refresh();
            WaitFor($"{DemoCampaign.Ministry}@2020-04-23");
            return false;
        });
        var row = browser.FindElements(By.CssSelector("#ledger tr[data-step=escalation]")).First(r => r.Text.Contains("Ấn định lại", StringComparison.Ordinal));
        Assert.StartsWith("23/04/2020 Báo cáo cấp trên", row.Text, StringComparison.Ordinal);
        Assert.Contains(DemoCampaign.Ministry, row.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_notification_arrives_live_in_the_inbox_without_a_reload()
    {
        Open(DemoCampaign.Central, "2020-10-28");
        var browser = fixture.Browser;
        browser.ExecuteScript("window.cwNotReloaded = true;");

        // The provincial bloc submits its documents: its superior (Central) is asked for a decision.
        using var http = TestAuth.Client(fixture.Server.BaseAddress, "secretariat", DemoCampaign.ProvincialBloc);
        var congress = $"/api/campaigns/{DemoCampaign.CampaignId}/congresses/{DemoCampaign.ProvincialBloc}";
        foreach (var (step, body) in new (string, object?)[]
        {
            ("drafts", new { kind = "political-report" }), ("drafts", new { kind = "review-report" }),
            ("personnel-plan", new { seats = 35, candidates = 40 }), ("submission", null),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{congress}/{step}")
            {
                Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body),
            };
            (await http.SendAsync(request)).EnsureSuccessStatusCode();
        }

        var arrived = new WebDriverWait(browser, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) }.Until(driver =>
            driver.FindElements(By.CssSelector("#inbox li.unread"))
                .FirstOrDefault(li => li.Text.Contains($"Hồ sơ đại hội chờ cho ý kiến · {DemoCampaign.ProvincialBloc}", StringComparison.Ordinal)));
        Assert.Equal(true, browser.ExecuteScript("return window.cwNotReloaded === true;")); // the same page: nothing was reloaded
        var unreadBefore = browser.FindElement(By.Id("inbox-unread")).Text;
        arrived.Click();
        new WebDriverWait(browser, TimeSpan.FromSeconds(10)).Until(driver => driver.FindElement(By.Id("inbox-unread")).Text != unreadBefore);
    }

    [Fact]
    public void a_bloc_committee_signed_in_sees_its_bloc_only_and_an_auditor_sees_the_trail_without_action_buttons()
    {
        var browser = fixture.Browser;
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        browser.Navigate().GoToUrl(fixture.Server.BaseAddress);
        browser.ExecuteScript("sessionStorage.clear();");
        browser.Navigate().Refresh();

        // The demo sign-in offered on loopback: the Central Agencies Bloc's committee.
        wait.Until(driver => driver.FindElements(By.CssSelector($"#demo-users button[data-org='{DemoCampaign.CentralBloc}'][data-role='committee']")).FirstOrDefault())
            .Click();
        var body = wait.Until(driver => driver.FindElement(By.TagName("body")).GetDomAttribute("data-loaded") is { } loaded
            && loaded.StartsWith(DemoCampaign.CentralBloc + "@", StringComparison.Ordinal) ? driver.FindElement(By.TagName("body")) : null);
        Assert.Equal("committee", body.GetDomAttribute("data-role"));
        Assert.Equal("Đảng bộ Khối các cơ quan Trung ương", browser.FindElement(By.Id("breadcrumb")).Text);
        Assert.Contains("Đảng bộ Bộ Công Thương", browser.FindElement(By.Id("subordinates")).Text, StringComparison.Ordinal);
        Assert.False(browser.FindElement(By.Id("trail")).Displayed);

        // Another bloc is refused, on screen as in the API.
        browser.Navigate().GoToUrl($"{fixture.Server.BaseAddress}#campaign={DemoCampaign.CampaignId}&path={DemoCampaign.ProvincialBloc}&asOf=2020-10-28");
        browser.Navigate().Refresh();
        var error = wait.Until(driver => driver.FindElement(By.Id("error")) is { Displayed: true } shown ? shown : null);
        Assert.Contains("outside the subtree", error.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Thái Bình", browser.FindElement(By.Id("levels")).Text, StringComparison.Ordinal);

        // Signed out, then in again with a pasted token: an auditor of the same bloc.
        browser.FindElement(By.Id("sign-out")).Click();
        wait.Until(driver => driver.FindElement(By.Id("sign-in")).Displayed);
        browser.Navigate().GoToUrl($"{fixture.Server.BaseAddress}#campaign={DemoCampaign.CampaignId}&path={DemoCampaign.CentralBloc}&asOf=2020-10-28");
        browser.FindElement(By.Id("token")).SendKeys(TestAuth.Token("auditor", DemoCampaign.CentralBloc));
        browser.FindElement(By.CssSelector("#token-form button")).Click();
        try
        {
            WaitFor($"{DemoCampaign.CentralBloc}@2020-10-28");
        }
        catch (WebDriverTimeoutException e)
        {
            throw new WebDriverTimeoutException($"{e.Message}; loaded {browser.FindElement(By.TagName("body")).GetDomAttribute("data-loaded")}; {browser.Url}; the page shows: {browser.FindElement(By.TagName("body")).Text.Replace('\n', '|')}", e);
        }
        var trail = wait.Until(driver => driver.FindElement(By.Id("trail")) is { Displayed: true } shown
            && shown.FindElements(By.CssSelector("tbody tr[data-action]")).Count > 0 ? shown : null);
        Assert.Contains(trail.FindElements(By.CssSelector("tbody tr")), row => row.GetDomAttribute("data-action") == "approved"
            && row.Text.Contains(DemoCampaign.Ministry, StringComparison.Ordinal));
        Assert.Empty(browser.FindElements(By.CssSelector("button.action")));

        // The auditor narrows the trail to the approvals.
        new SelectElement(browser.FindElement(By.Id("trail-action"))).SelectByValue("approved");
        browser.FindElement(By.CssSelector("#trail-filter button[type='submit']")).Click();
        // Read in one script: the table is re-rendered while the filter applies.
        wait.Until(_ => browser.ExecuteScript(
            "return [...document.querySelectorAll('#trail-table tbody tr[data-action]')].map(r => r.dataset.action).join(',');") is string kinds
            && kinds.Length > 0 && kinds.Split(',').All(k => k == "approved"));
        Assert.False(browser.FindElement(By.Id("actions")).Displayed);
        Assert.Equal("auditor", browser.FindElement(By.TagName("body")).GetDomAttribute("data-role"));

        // An approval in the trail opens its congress page, replayed to that very event.
        var approval = browser.FindElements(By.CssSelector("#trail-table tbody tr[data-action='approved']"))
            .First(row => row.Text.Contains(DemoCampaign.Ministry, StringComparison.Ordinal)).FindElement(By.CssSelector("a.event-link"));
        var version = approval.Text.Split('@')[1].Split(' ')[0];
        approval.Click();
        var selected = wait.Until(driver => driver.FindElements(By.CssSelector("#congress-events tbody tr.selected")).FirstOrDefault());
        Assert.Equal(version, selected!.GetDomAttribute("data-version"));
        Assert.Equal("congress.submission-approved", selected.GetDomAttribute("data-type"));
        wait.Until(driver => driver.FindElement(By.Id("replay-label")).Text.StartsWith($"#{version} congress.submission-approved", StringComparison.Ordinal)
            && driver.FindElement(By.Id("congress-state")).GetDomAttribute("data-stage") == "approved");
        SaveScreenshotIfAsked(browser.FindElement(By.Id("congress-page")), "congress-page");

        SaveScreenshotIfAsked(browser.FindElement(By.Id("trail")), "trail");

        // The conformance replay of the bloc: late decisions measured against the policy, no rule broken.
        browser.ExecuteScript("document.getElementById('conformance-run').click();");
        var findings = wait.Until(driver => driver.FindElement(By.Id("conformance-table")) is { Displayed: true } shown
            && shown.FindElements(By.CssSelector("tbody tr")).Count > 0 ? shown.FindElements(By.CssSelector("tbody tr")) : null);
        Assert.All(findings!, row => Assert.Equal("deadline-missed", row.GetDomAttribute("data-code")));
        Assert.Contains("0 vi phạm", browser.FindElement(By.Id("conformance-summary")).Text, StringComparison.Ordinal);
        SaveScreenshotIfAsked(browser.FindElement(By.Id("conformance")), "conformance");
    }

    /// <summary>ops/screenshots sets CONGRESS_SCREENSHOTS to a folder: the README's pictures are taken from these very tests.</summary>
    private static void SaveScreenshotIfAsked(IWebElement element, string name)
    {
        if (Environment.GetEnvironmentVariable("CONGRESS_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            ((ITakesScreenshot)element).GetScreenshot().SaveAsFile(Path.Combine(folder, name + ".png"));
        }
    }

    [Fact]
    public void the_congress_page_replays_the_state_of_any_recorded_moment()
    {
        const string centre = "dang-bo-trung-tam-thong-tin-cntm";
        Open(DemoCampaign.Ministry, "2020-07-31");
        var browser = fixture.Browser;
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        browser.FindElement(By.CssSelector($"a.congress-link[data-org='{centre}']")).Click();
        wait.Until(driver => driver.FindElements(By.CssSelector("#congress-events tbody tr[data-type='congress.submission-approved']")).Count > 0);
        var now = browser.FindElement(By.Id("congress-state")).GetDomAttribute("data-stage");
        var types = ((IReadOnlyCollection<object>)browser.ExecuteScript(
            "return [...document.querySelectorAll('#congress-events tbody tr')].map(r => r.dataset.type);")!).Cast<string>().ToList();

        string StageAt(int index)
        {
            browser.ExecuteScript(
                "const s = document.getElementById('replay'); s.value = arguments[0]; s.dispatchEvent(new Event('input'));", index);
            wait.Until(driver => driver.FindElement(By.Id("replay-label")).Text.StartsWith($"#{index + 1} ", StringComparison.Ordinal)
                && driver.FindElement(By.Id("congress-state")).GetDomAttribute("data-version") == (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return browser.FindElement(By.Id("congress-state")).GetDomAttribute("data-stage")!;
        }

        // The pilot's documents were returned on 25/03/2020, resubmitted and approved on 07/04/2020.
        var returned = types.IndexOf("congress.submission-returned");
        var approved = types.IndexOf("congress.submission-approved");
        Assert.True(returned > 0 && approved > returned, string.Join(", ", types));
        Assert.Equal("preparing", StageAt(returned));
        Assert.Contains("trả lại 1", browser.FindElement(By.Id("congress-state")).Text, StringComparison.Ordinal);
        Assert.Equal("awaiting-approval", StageAt(approved - 1));
        Assert.Equal("approved", StageAt(approved));
        Assert.Equal(now, StageAt(types.Count - 1));
        Assert.NotEqual("preparing", now);
    }
}
