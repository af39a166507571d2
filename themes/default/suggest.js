// While a customer types a new ticket's subject, help articles that match are suggested (C8).
// The portal's only script: no inline code, served from this origin; without it the form works the same.
(function () {
  'use strict';
  var box = document.getElementById('kb-suggestions');
  if (!box) return;
  var input = document.getElementById(box.getAttribute('data-for'));
  if (!input) return;
  var url = box.getAttribute('data-url');
  var heading = box.getAttribute('data-heading');
  var timer = null;
  var last = '';
  function show(items) {
    while (box.firstChild) box.removeChild(box.firstChild);
    if (items.length === 0) return;
    var p = document.createElement('p');
    p.className = 'hint';
    p.textContent = heading;
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
  }
  function lookup() {
    var q = input.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < 3) { show([]); return; }
    fetch(url + '?q=' + encodeURIComponent(q), { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : { items: [] }; })
      .then(function (body) { if (input.value.trim() === q) show(body.items || []); })
      .catch(function () { show([]); });
  }
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
})();
