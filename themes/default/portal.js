// The portal's only script; every page works without it. It folds the navigation behind the
// menu button on small screens, applies a choice (language, list filters) as soon as it changes,
// and suggests help articles while a new ticket's subject is typed.
(function () {
  'use strict';
  // Served as /assets/suggest.js too (a portal's own templates may name it): it runs once.
  var root = document.documentElement;
  if (root.classList.contains('js')) return;
  root.classList.add('js');

  var toggle = document.querySelector('.menu-toggle');
  var nav = document.getElementById('site-nav');
  if (toggle && nav) {
    toggle.hidden = false;
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      nav.classList.toggle('open', open);
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
        toggle.setAttribute('aria-expanded', 'false');
        nav.classList.remove('open');
        toggle.focus();
      }
    });
  }

  // A select that applies at once: its form's button stays only for browsers without scripts.
  document.querySelectorAll('[data-submit-on-change]').forEach(function (select) {
    select.addEventListener('change', function () {
      if (!select.form) return;
      if (select.form.requestSubmit) select.form.requestSubmit();
      else select.form.submit();
    });
  });
  document.querySelectorAll('[data-no-script]').forEach(function (button) { button.hidden = true; });

  // Help articles that may already answer a new ticket (C8): at most five, as its subject is typed.
  var box = document.getElementById('kb-suggestions');
  var input = box && document.getElementById(box.getAttribute('data-for'));
  if (box && input) {
    var timer = null;
    var last = '';
    var show = function (items) {
      while (box.firstChild) box.removeChild(box.firstChild);
      if (items.length === 0) return;
      var p = document.createElement('p');
      p.className = 'hint';
      p.textContent = box.getAttribute('data-heading');
      box.appendChild(p);
      var ul = document.createElement('ul');
      ul.className = 'articles';
      items.forEach(function (item) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = item.url;
        a.target = '_blank';
        a.rel = 'noopener';
        a.textContent = item.title;
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    };
    var lookup = function () {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 3) { show([]); return; }
      fetch(box.getAttribute('data-url') + '?q=' + encodeURIComponent(q), { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (res) { return res.ok ? res.json() : { items: [] }; })
        .then(function (body) { if (input.value.trim() === q) show(body.items || []); })
        .catch(function () { show([]); });
    };
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 250);
    });
  }
})();
